package dev.gatehouse.gateway.backend.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.Message;
import dev.gatehouse.serving.engine.DeviceChoice;
import dev.gatehouse.serving.engine.EngineConfig;
import dev.gatehouse.serving.engine.LocalModel;
import dev.gatehouse.serving.testing.TestModelFolder;
import dev.gatehouse.serving.text.ChatMessage;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A conversation ending with the assistant's own words is continued from them, as Anthropic and
 * Ollama do (mid-stream failover hands a local model a partial answer this way): the template opens
 * the assistant's turn and the words follow, not a closed turn and a new one.
 */
class LocalPrefillTest {
    static final ChatRequest.Sampling SAMPLING = new ChatRequest.Sampling(1f, 1f, 0, 0f, 1f, 0f, 0f, null, List.of(), false, 0);
    static LocalModels models;
    static LocalBackend backend;

    @BeforeAll
    static void load(@TempDir Path dir) throws Exception {
        TestModelFolder.llama().write(dir.resolve("tiny-llama"));
        models = new LocalModels();
        models.loadAll(dir, DeviceChoice.CPU, EngineConfig.defaults(), new SimpleMeterRegistry());
        backend = models.get("tiny-llama").orElseThrow();
    }

    @AfterAll
    static void close() {
        models.close();
    }

    static ChatRequest chat(Message... messages) {
        return new ChatRequest("tiny-llama", List.of(messages), null, 4, SAMPLING, 1, false, false, false, null);
    }

    @Test
    void aFinalAssistantMessageIsContinued() {
        LocalModel model = backend.engine().model();
        String opened = model.chatTemplate().render(List.of(new ChatMessage("user", "hello")), true);
        String closed = model.chatTemplate().render(List.of(new ChatMessage("user", "hello"), new ChatMessage("assistant", "world")), true);

        int prefilled = backend.promptTokens(chat(new Message("user", "hello"), new Message("assistant", "world")));

        assertEquals(model.tokenizer().encode(opened + "world", false).length, prefilled);
        assertNotEquals(model.tokenizer().encode(closed, false).length, prefilled, "not a closed turn and a new one");
        assertTrue(backend.prefills("tiny-llama"));
    }
}
