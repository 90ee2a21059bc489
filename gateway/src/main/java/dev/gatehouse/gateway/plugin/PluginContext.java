package dev.gatehouse.gateway.plugin;

/**
 * Who is asking, for plugins whose decision depends on it.
 *
 * @param endpoint {@code /v1/chat/completions} or {@code /v1/completions}
 * @param keyId the virtual key's id, {@code jwt:USER} for a JWT, null for the master key or an open server
 * @param user the JWT user, else the request's {@code user} field; null when neither is there
 */
public record PluginContext(String endpoint, String keyId, String user) {}
