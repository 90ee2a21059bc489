package dev.gatehouse.gateway.backend;

import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ChatStream;

/** Something that answers chat requests: the local engine here; cloud providers as they land. */
public interface Backend {

    /** Starts answering; refuses at once with an ApiException (bad input, overloaded, ...). */
    ChatStream open(ChatRequest request);
}
