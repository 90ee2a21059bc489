package dev.gatehouse.gateway.route;

import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.Message;

import java.util.ArrayList;
import java.util.List;

/**
 * How the next target is asked to go on with an answer another target broke off: the client's
 * request with the partial answer added. A target that prefills (Anthropic, a local model) gets it
 * as a final assistant message and goes on from its last word; any other gets it as an assistant
 * message followed by {@link #INSTRUCTION}. A raw completion prompt simply gets the partial text
 * appended. max_tokens shrinks by what was already written (4 characters a token).
 */
final class Continuation {
    static final String INSTRUCTION = "Your previous answer was cut off. Continue it exactly from where it stopped, "
            + "mid-word or mid-sentence if need be, without repeating anything and without commenting on the interruption.";

    private Continuation() {}

    /** Whether a broken answer to {@code request} can be continued: one choice, of a chat or of one raw prompt. */
    static boolean possible(ChatRequest request) {
        return request.n() == 1 && (request.isChat() || request.prompts().size() == 1);
    }

    static ChatRequest of(ChatRequest request, String partial, boolean prefills) {
        if (partial.isBlank()) {
            return request; // nothing to continue (and an empty assistant message is refused): ask again
        }
        ChatRequest asked;
        if (!request.isChat()) {
            asked = request.withInput(null, List.of(request.prompts().getFirst() + partial));
        } else {
            List<Message> messages = new ArrayList<>(request.messages());
            if (prefills) {
                Message last = messages.getLast();
                String prefill = partial;
                if (Message.ASSISTANT.equals(last.role()) && last.toolCalls().isEmpty()) { // the client's own prefill, continued
                    prefill = messages.removeLast().text() + partial;
                }
                messages.add(new Message(Message.ASSISTANT, prefill.stripTrailing())); // Anthropic refuses trailing whitespace
            } else {
                messages.add(new Message(Message.ASSISTANT, partial));
                messages.add(new Message(Message.USER, INSTRUCTION));
            }
            asked = request.withInput(messages, null);
        }
        Integer max = request.maxTokens();
        return max == null ? asked : asked.withMaxTokens(Math.max(1, max - tokens(partial)));
    }

    /** OpenAI's rule of thumb, as for the usage of an answer cut short. */
    static int tokens(String text) {
        return (text.length() + 3) / 4;
    }
}
