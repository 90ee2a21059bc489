package dev.gatehouse.gateway.plugin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ChatStream;

/**
 * A request and response hook for /v1/chat/completions and /v1/completions, found with
 * {@link java.util.ServiceLoader}: implement it, list the class in
 * {@code META-INF/services/dev.gatehouse.gateway.plugin.GatehousePlugin}, put the jar on the class
 * path and name the plugin under {@code plugins:} in gatehouse.yaml.
 *
 * <p>Plugins see the gateway's one internal request and event stream, never a dialect's JSON. Each
 * entry of {@code plugins:} gets its own instance, configured once before the first request; the
 * hooks are then called from many threads at once.
 */
public interface GatehousePlugin {

    /** The name gatehouse.yaml uses for the plugin, e.g. {@code pii-redaction}. */
    String name();

    /**
     * Takes the entry's {@code settings:} (an empty object when there are none). Throw
     * {@link IllegalArgumentException} for a wrong setting: the server refuses to start with its message.
     */
    default void configure(JsonNode settings) {}

    /**
     * Before the cache and the router: returns the request to serve (the same one, or a changed copy),
     * or throws {@link PluginRejection} to answer 400 without calling any model.
     */
    default ChatRequest onRequest(ChatRequest request, PluginContext context) {
        return request;
    }

    /**
     * Wraps the answer on its way to the client, streamed or not: return {@code response} itself to
     * leave it alone, or a {@link ChatStream} that reads it and passes on (changed) events. Closing the
     * returned stream must close {@code response}.
     *
     * @param request the request as this plugin's {@link #onRequest} returned it
     */
    default ChatStream onResponse(ChatRequest request, ChatStream response) {
        return response;
    }
}
