import APICore
import Hummingbird
import Prometheus

extension Router where Context == CellarRequestContext {
    /// `GET /metrics`: every metric of the registry in Prometheus text format (behind the control-character gate),
    /// then what `extra` reads at scrape time (clusters' figures). For operators only: an admin token (`X-Auth-Token`),
    /// since the figures name every cluster and member of every project.
    public func addMetricsRoutes(
        registry: PrometheusCollectorRegistry, validator: any TokenValidator,
        extra: @escaping @Sendable () async -> String = { "" }
    ) {
        group().add(middleware: ControlCharacterMiddleware<Context>.trove).add(middleware: TokenAuthMiddleware(validator: validator))
            .get("/metrics") { _, context -> Response in
                guard try context.caller().isAdmin else { throw TroveError.forbidden("/metrics needs an administrator's token.") }
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
