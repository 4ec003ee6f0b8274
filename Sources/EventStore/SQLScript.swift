/// Splits a SQL script into statements, for drivers that only speak the extended protocol (one statement each).
///
/// Semicolons inside quotes ('...', "..."), dollar-quoted bodies ($$...$$, $tag$...$tag$) and comments do not
/// split. Comment-only pieces are dropped.
enum SQLScript {
    static func statements(in script: String) -> [String] {
        let characters = Array(script)
        var statements: [String] = []
        var current = ""
        var hasCode = false
        var index = 0

        func take(until end: Int) {
            current += String(characters[index..<end])
            index = end
        }

        while index < characters.count {
            let character = characters[index]
            let next: Character? = index + 1 < characters.count ? characters[index + 1] : nil
            switch character {
            case "-" where next == "-":
                let end = characters[index...].firstIndex(of: "\n") ?? characters.count
                take(until: end)
            case "/" where next == "*":
                let end = find("*/", in: characters, from: index + 2).map { $0 + 2 } ?? characters.count
                take(until: end)
            case "'", "\"":
                hasCode = true
                let end = (characters[(index + 1)...].firstIndex(of: character)).map { $0 + 1 } ?? characters.count
                take(until: end)  // a doubled quote ('') simply re-enters this case
            case "$":
                hasCode = true
                if let tagEnd = characters[(index + 1)...].prefix(64).firstIndex(where: { !($0.isLetter || $0.isNumber || $0 == "_") }),
                    characters[tagEnd] == "$"
                {
                    let tag = Array(characters[index...tagEnd])
                    let close = find(String(tag), in: characters, from: tagEnd + 1).map { $0 + tag.count } ?? characters.count
                    take(until: close)
                } else {
                    take(until: index + 1)
                }
            case ";":
                if hasCode { statements.append(current.trimmingWhitespace()) }
                current = ""
                hasCode = false
                index += 1
            default:
                if !character.isWhitespace { hasCode = true }
                take(until: index + 1)
            }
        }
        if hasCode { statements.append(current.trimmingWhitespace()) }
        return statements
    }

    private static func find(_ needle: String, in characters: [Character], from start: Int) -> Int? {
        let pattern = Array(needle)
        guard start <= characters.count - pattern.count else { return nil }
        for position in start...(characters.count - pattern.count) where Array(characters[position..<(position + pattern.count)]) == pattern {
            return position
        }
        return nil
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars.drop { $0.properties.isWhitespace }.reversed().drop { $0.properties.isWhitespace }.reversed()
        return String(String.UnicodeScalarView(scalars))
    }
}
