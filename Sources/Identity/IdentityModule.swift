/// Keystone-v3 identity subset (being built).
public enum IdentityModule {}
