package dev.gatehouse.gateway.backend;

import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.serving.engine.Capacity;

/** Something that answers chat requests: a local engine or a cloud provider. */
public interface Backend {

    /** Starts answering; refuses at once with an ApiException (bad input, overloaded, ...). */
    ChatStream open(ChatRequest request);

    /** What it can serve: the router passes over it for a request it cannot. */
    Capabilities capabilities();

    /**
     * Whether a conversation that ends with an assistant message has {@code model} continue that
     * message (Anthropic's prefill; a local template's open assistant turn) rather than answer after
     * it. Mid-stream failover hands such a backend the partial answer to continue.
     */
    default boolean prefills(String model) {
        return false;
    }

    /** How busy it is, when it knows (a local engine: queue and estimated wait); null when it does not. */
    default Capacity capacity() {
        return null;
    }
}
