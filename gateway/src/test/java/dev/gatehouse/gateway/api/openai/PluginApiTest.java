package dev.gatehouse.gateway.api.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.gateway.plugin.GatehousePlugin;
import dev.gatehouse.gateway.plugin.PiiRedactionPlugin;
import dev.gatehouse.gateway.plugin.PluginContext;
import dev.gatehouse.gateway.plugin.PluginRejection;
import dev.gatehouse.gateway.plugin.Plugins;
import dev.gatehouse.serving.text.ChatMessage;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Plugins through HTTP: a rejecting plugin, then pii-redaction, then a witness that records what
 * the model is asked and, on request, answers with PII of its own (the tiny random model only
 * speaks gibberish), so redaction shows on requests and on streamed and whole answers.
 */
class PluginApiTest {
    /** What the witness answers instead of the model when the last message contains "say pii", in pieces. */
    private static final List<String> SCRIPT = List.of("Reach me at jane", ".doe@exam", "ple.com or +1 555", " 123 ",
            "4567, card 4111 11", "11 1111 11", "11.");
    private static final String REDACTED = "Reach me at [EMAIL] or [PHONE], card [CARD].";

    @TempDir
    static Path dir;
    static TestServer server;
    static final List<ChatRequest> seen = new ArrayList<>();

    /** Refuses any request whose text mentions "forbidden". */
    static final class Guard implements GatehousePlugin {
        public String name() {
            return "guard";
        }

        public ChatRequest onRequest(ChatRequest r, PluginContext context) {
            String text = r.prompts() != null ? r.prompts().toString() : r.messages().toString();
            if (text.contains("forbidden")) {
                throw new PluginRejection("the request mentions a forbidden topic");
            }
            return r;
        }
    }

    /** Records the request the model gets; answers from {@link #SCRIPT} when asked to. */
    static final class Witness implements GatehousePlugin {
        public String name() {
            return "witness";
        }

        public ChatRequest onRequest(ChatRequest r, PluginContext context) {
            synchronized (seen) {
                seen.add(r);
            }
            return r;
        }

        public ChatStream onResponse(ChatRequest request, ChatStream response) {
            if (request.messages() == null || !request.messages().getLast().text().contains("say pii")) {
                return response;
            }
            Iterator<String> script = SCRIPT.iterator();
            return new ChatStream() {
                public ChatEvent next() throws InterruptedException {
                    if (script.hasNext()) {
                        return new ChatEvent.Delta(0, script.next(), null);
                    }
                    ChatEvent e = response.next();
                    while (e instanceof ChatEvent.Delta) { // the model's own words are replaced
                        e = response.next();
                    }
                    return e; // its finish and usage pass on
                }

                public void close() {
                    response.close();
                }
            };
        }
    }

    @BeforeAll
    static void start() throws Exception {
        PiiRedactionPlugin pii = new PiiRedactionPlugin();
        pii.configure(JsonNodeFactory.instance.objectNode());
        server = TestServer.start(dir, (s, registry) -> s.plugins(Plugins.of(new Guard(), pii, new Witness())));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    /** Greedy, so deterministic: a sampled answer of the random model may end early on its eos token. */
    private static String chat(String content, boolean stream) {
        return "{\"model\":\"" + TestServer.MODEL + "\",\"messages\":[{\"role\":\"user\",\"content\":\"" + content
                + "\"}],\"max_tokens\":4,\"temperature\":0,\"stream\":" + stream + "}";
    }

    private static ChatRequest lastSeen() {
        synchronized (seen) {
            return seen.getLast();
        }
    }

    private static JsonNode json(HttpResponse<String> r) throws Exception {
        return OpenAiJson.MAPPER.readTree(r.body());
    }

    @Test
    void theModelNeverSeesThePiiOfARequest() throws Exception {
        HttpResponse<String> r = server.post("/v1/chat/completions",
                chat("mail jane@example.com, call 555-123-4567, pay 4111 1111 1111 1111", false));
        assertEquals(200, r.statusCode(), r.body());
        String redacted = "mail [EMAIL], call [PHONE], pay [CARD]";
        assertEquals(redacted, lastSeen().messages().getFirst().text());
        // the engine counted the tokens of the redacted text: that is what it was given
        assertEquals(server.chatPromptTokens(List.of(new ChatMessage("user", redacted))),
                json(r).path("usage").path("prompt_tokens").asInt());
    }

    @Test
    void aLegacyCompletionPromptIsRedactedToo() throws Exception {
        HttpResponse<String> r = server.post("/v1/completions",
                "{\"model\":\"" + TestServer.MODEL + "\",\"prompt\":\"write to a@b.org\",\"max_tokens\":3}");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(List.of("write to [EMAIL]"), lastSeen().prompts());
        assertEquals(server.completionPromptTokens("write to [EMAIL]"), json(r).path("usage").path("prompt_tokens").asInt());
    }

    @Test
    void aRejectedRequestIsA400NamingThePlugin() throws Exception {
        int before;
        synchronized (seen) {
            before = seen.size();
        }
        HttpResponse<String> r = server.post("/v1/chat/completions", chat("tell me the forbidden thing", false));
        assertEquals(400, r.statusCode(), r.body());
        JsonNode error = json(r).path("error");
        assertEquals("rejected_by_plugin", error.path("code").asText());
        assertEquals("invalid_request_error", error.path("type").asText());
        assertEquals("Request rejected by plugin 'guard': the request mentions a forbidden topic",
                error.path("message").asText());
        synchronized (seen) {
            assertEquals(before, seen.size(), "no later plugin, no model saw it");
        }
    }

    @Test
    void aWholeAnswerIsRedacted() throws Exception {
        HttpResponse<String> r = server.post("/v1/chat/completions", chat("say pii", false));
        assertEquals(200, r.statusCode(), r.body());
        JsonNode choice = json(r).path("choices").get(0);
        assertEquals(REDACTED, choice.path("message").path("content").asText());
        assertEquals("length", choice.path("finish_reason").asText());
    }

    @Test
    void aStreamedAnswerIsRedactedEvenWherePiiIsSplitAcrossChunks() throws Exception {
        HttpResponse<String> r = server.post("/v1/chat/completions", chat("say pii", true));
        assertEquals(200, r.statusCode(), r.body());
        StringBuilder content = new StringBuilder();
        String finish = null;
        for (String block : r.body().split("\n\n")) {
            assertTrue(block.startsWith("data: "), block);
            String data = block.substring("data: ".length());
            if (data.equals("[DONE]")) {
                continue;
            }
            JsonNode choice = OpenAiJson.MAPPER.readTree(data).path("choices").get(0);
            String piece = choice.path("delta").path("content").asText("");
            assertFalse(piece.matches(".*(@|exam|555|4111|1111).*"), "a chunk leaks PII: " + piece);
            content.append(piece);
            if (!choice.path("finish_reason").isNull()) {
                finish = choice.path("finish_reason").asText();
            }
        }
        assertEquals(REDACTED, content.toString());
        assertEquals("length", finish);
    }
}
