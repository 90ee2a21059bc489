package dev.gatehouse.gateway.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.Message;
import java.util.List;
import org.junit.jupiter.api.Test;

class ContinuationTest {
    static final ChatRequest.Sampling SAMPLING = new ChatRequest.Sampling(1f, 1f, 0, 0f, 1f, 0f, 0f, null, List.of(), false, 0);
    static final List<Message> ASKED = List.of(new Message("system", "Be brief."), new Message("user", "Tell me a story."));

    static ChatRequest chat(Integer maxTokens, int n) {
        return new ChatRequest("m", ASKED, null, maxTokens, SAMPLING, n, false, true, false, null);
    }

    @Test
    void aTargetThatPrefillsGetsThePartialAnswerAsTheLastAssistantMessage() {
        ChatRequest next = Continuation.of(chat(100, 1), "Once upon a time, ", true);

        assertEquals(3, next.messages().size());
        assertEquals(ASKED, next.messages().subList(0, 2));
        assertEquals(new Message("assistant", "Once upon a time,"), next.messages().get(2), "no trailing whitespace: Anthropic refuses it");
        assertEquals(100 - 5, next.maxTokens(), "18 characters written: about 5 tokens fewer left");
    }

    @Test
    void aClientsOwnPrefillIsContinuedAsOneAssistantMessage() {
        ChatRequest prefilled = new ChatRequest("m", List.of(new Message("user", "Name a colour."), new Message("assistant", "The colour is")),
                null, null, SAMPLING, 1, false, true, false, null);
        ChatRequest next = Continuation.of(prefilled, " deep bl", true);

        assertEquals(List.of(new Message("user", "Name a colour."), new Message("assistant", "The colour is deep bl")), next.messages());
    }

    @Test
    void anyOtherTargetGetsItWithTheContinuationInstruction() {
        ChatRequest next = Continuation.of(chat(null, 1), "Once upon a time, ", false);

        assertEquals(List.of(new Message("assistant", "Once upon a time, "), new Message("user", Continuation.INSTRUCTION)),
                next.messages().subList(2, 4));
        assertNull(next.maxTokens());
    }

    @Test
    void aRawPromptIsContinuedByAppendingThePartialText() {
        ChatRequest completion = new ChatRequest("m", null, List.of("The sky is"), 3, SAMPLING, 1, false, true, false, null);
        ChatRequest next = Continuation.of(completion, " blue and", false);

        assertEquals(List.of("The sky is blue and"), next.prompts());
        assertEquals(1, next.maxTokens(), "at least one token is asked for");
    }

    @Test
    void withNothingWrittenYetTheRequestIsAskedAgainAsItWas() {
        ChatRequest asked = chat(100, 1);
        assertEquals(asked, Continuation.of(asked, " ", true));
        assertEquals(asked, Continuation.of(asked, "", false));
    }

    @Test
    void onlyOneChoiceCanBeContinued() {
        assertTrue(Continuation.possible(chat(null, 1)));
        assertFalse(Continuation.possible(chat(null, 2)));
        assertFalse(Continuation.possible(new ChatRequest("m", null, List.of("a", "b"), 3, SAMPLING, 1, false, true, false, null)));
    }
}
