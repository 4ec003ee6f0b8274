import Testing

extension Tag {
    /// Needs a real PostgreSQL server.
    @Tag public static var postgres: Self
    /// Needs a real RabbitMQ broker.
    @Tag public static var rabbitMQ: Self
}

extension Tag {
    /// Needs a real object store (the private OpenStack Swift).
    @Tag public static var objectStore: Self
}
