import Hummingbird
import NIOCore

/// GET /metrics: the Prometheus text exposition (format 0.0.4) that `render` produces, for a
/// caller with the `metrics` role (Prometheus sends `Authorization: Bearer <token>`).
public struct MetricsEndpoint: Sendable {
    public var render: @Sendable () async -> [UInt8]

    public init(render: @escaping @Sendable () async -> [UInt8]) { self.render = render }

    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    func response() async -> Response {
        Response(status: .ok, headers: [.contentType: Self.contentType], body: .init(byteBuffer: ByteBuffer(bytes: await render())))
    }
}
