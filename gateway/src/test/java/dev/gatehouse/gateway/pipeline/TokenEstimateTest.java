package dev.gatehouse.gateway.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.Message;
import java.util.List;
import org.junit.jupiter.api.Test;

class TokenEstimateTest {
    private static final ChatRequest.Sampling SAMPLING = new ChatRequest.Sampling(1f, 1f, 0, 0f, 1f, 0f, 0f, null,
            List.of(), false, 0);

    private static ChatRequest chat(Integer maxTokens, int n, String text) {
        return new ChatRequest("m", List.of(new Message("user", text)), null, maxTokens, SAMPLING, n, false, false,
                false, null);
    }

    private static ChatRequest completion(Integer maxTokens, int n, String... prompts) {
        return new ChatRequest("m", null, List.of(prompts), maxTokens, SAMPLING, n, false, false, false, null);
    }

    @Test
    void estimateIsPromptCharactersOverFourPlusMaxTokens() {
        // "user" + "hello world!" = 16 characters → 4 tokens
        assertEquals(4 + 10, TokenEstimate.of(chat(10, 1, "hello world!")));
        assertEquals(2 + TokenEstimate.DEFAULT_COMPLETION_TOKENS, TokenEstimate.of(completion(null, 1, "abcdefgh")));
        assertEquals(4, TokenEstimate.prompt(chat(10, 1, "hello world!")));
    }

    @Test
    void estimateCountsMaxTokensForEveryChoice() {
        assertEquals(4 + 3 * 10, TokenEstimate.of(chat(10, 3, "hello world!")));
        // two prompts of 4 characters, n = 2: four answers
        assertEquals(2 + 4 * 10, TokenEstimate.of(completion(10, 2, "abcd", "efgh")));
    }
}
