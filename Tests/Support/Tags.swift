import Testing

extension Tag {
    /// Needs a real PostgreSQL server.
    @Tag public static var postgres: Self
    /// Needs a real RabbitMQ broker.
    @Tag public static var rabbitMQ: Self
}
