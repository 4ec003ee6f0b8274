import Hummingbird
import Prometheus

extension Router {
    /// `GET /metrics`: every metric of the registry in Prometheus text format (behind the control-character gate),
    /// then what `extra` reads at scrape time (clusters' figures).
    public func addMetricsRoutes(registry: PrometheusCollectorRegistry, extra: @escaping @Sendable () async -> String = { "" }) {
        group().add(middleware: ControlCharacterMiddleware<Context>.trove).get("/metrics") { _, _ -> Response in
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            buffer += Array(await extra().utf8)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer))
            )
        }
    }
}
