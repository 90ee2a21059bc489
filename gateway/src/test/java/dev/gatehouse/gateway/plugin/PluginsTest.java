package dev.gatehouse.gateway.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.gateway.chat.Message;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The chain of plugins: order, per-model selection, rejection. */
class PluginsTest {
    private static final PluginContext CONTEXT = new PluginContext("/v1/chat/completions", "key1", "ann");

    /** Appends its tag to the last message and to every delta of the answer; logs what it saw. */
    private record Tagging(String tag, List<String> log) implements GatehousePlugin {
        public String name() {
            return "tag-" + tag;
        }

        public ChatRequest onRequest(ChatRequest r, PluginContext context) {
            log.add(tag + " saw " + r.messages().getLast().text() + " from " + context.user());
            Message m = r.messages().getLast();
            return new ChatRequest(r.model(), List.of(new Message(m.role(), m.text() + tag)), null, r.maxTokens(),
                    r.sampling(), r.n(), r.echo(), r.stream(), r.includeUsage(), r.user());
        }

        public ChatStream onResponse(ChatRequest request, ChatStream response) {
            log.add(tag + " answers " + request.messages().getLast().text());
            return new ChatStream() {
                public ChatEvent next() throws InterruptedException {
                    ChatEvent e = response.next();
                    return e instanceof ChatEvent.Delta d ? new ChatEvent.Delta(d.index(), d.text() + tag, null) : e;
                }

                public void close() {
                    response.close();
                }
            };
        }
    }

    private static ChatRequest chat(String model, String text) {
        return new ChatRequest(model, List.of(new Message("user", text)), null, 10, null, 1, false, false, false, null);
    }

    @Test
    void requestsGoThroughInOrderAndAnswersComeBackInReverse() throws Exception {
        List<String> log = new ArrayList<>();
        Plugins plugins = Plugins.of(new Tagging("1", log), new Tagging("2", log));
        Plugins.Applied applied = plugins.onRequest(chat("m", "x"), CONTEXT);
        assertEquals("x12", applied.request().messages().getFirst().text());
        ChatStream answer = applied.onResponse(PiiRedactionTest.stream(new ChatEvent.Delta(0, "y", null)));
        assertEquals("y21", ((ChatEvent.Delta) answer.next()).text()); // the first plugin has the last word
        assertNull(answer.next());
        assertEquals(List.of("1 saw x from ann", "2 saw x1 from ann", "2 answers x12", "1 answers x1"), log);
    }

    @Test
    void pluginsRunOnlyForTheirModels() {
        List<String> log = new ArrayList<>();
        Plugins plugins = Plugins.of(List.of(new Plugins.Active(new Tagging("a", log), List.of("chat")),
                new Plugins.Active(new Tagging("b", log), List.of())));
        assertEquals("xab", plugins.onRequest(chat("chat", "x"), CONTEXT).request().messages().getFirst().text());
        assertEquals("xb", plugins.onRequest(chat("other", "x"), CONTEXT).request().messages().getFirst().text());
        assertEquals("x", Plugins.NONE.onRequest(chat("chat", "x"), CONTEXT).request().messages().getFirst().text());
    }

    @Test
    void aRejectionIsA400NamingThePlugin() {
        GatehousePlugin guard = new GatehousePlugin() {
            public String name() {
                return "no-secrets";
            }

            public ChatRequest onRequest(ChatRequest r, PluginContext context) {
                throw new PluginRejection("the prompt mentions a secret");
            }
        };
        List<String> log = new ArrayList<>();
        ApiException e = assertThrows(ApiException.class,
                () -> Plugins.of(guard, new Tagging("after", log)).onRequest(chat("m", "x"), CONTEXT));
        assertEquals(400, e.status());
        assertEquals("rejected_by_plugin", e.code());
        assertEquals("invalid_request_error", e.type());
        assertEquals("Request rejected by plugin 'no-secrets': the prompt mentions a secret", e.getMessage());
        assertEquals(List.of(), log); // later plugins never saw it
    }
}
