import Metrics

/// Counters behind `/metrics` (Prometheus names `cellar_bus_*_total`).
enum BusMetrics {
    static let published = Counter(label: "cellar_bus_published_total")
    static let confirmed = Counter(label: "cellar_bus_confirmed_total")
    static let delivered = Counter(label: "cellar_bus_delivered_total")
    static let redelivered = Counter(label: "cellar_bus_redelivered_total")
    static let deadLettered = Counter(label: "cellar_bus_dead_lettered_total")
}
