package dev.gatehouse.gateway.plugin;

/**
 * Thrown by {@link GatehousePlugin#onRequest} to refuse a request. The client gets a 400 in OpenAI's
 * error shape, code {@code rejected_by_plugin}, with this message after the plugin's name.
 */
public class PluginRejection extends RuntimeException {
    public PluginRejection(String message) {
        super(message);
    }
}
