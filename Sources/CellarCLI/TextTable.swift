import Foundation

/// Fixed-width text columns; a width of 0 means "the rest of the line".
public enum TextTable {
    public static func row(_ cells: [String], widths: [Int]) -> String {
        zip(cells, widths).map { cell, width in
            guard width > 0 else { return cell }
            let fitted = cell.count > width ? String(cell.prefix(width - 1)) + "…" : cell
            return fitted.padding(toLength: width, withPad: " ", startingAt: 0)
        }.joined(separator: " ")
    }

    public static func render(header: [String], rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        widths[widths.count - 1] = 0
        return ([header] + rows).map { row($0, widths: widths) }.joined(separator: "\n")
    }
}
