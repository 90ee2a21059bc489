package dev.gatehouse.gateway.plugin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ContentPart;
import dev.gatehouse.gateway.chat.Message;
import dev.gatehouse.gateway.chat.ChatStream;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;

/**
 * {@code pii-redaction}: replaces emails, phone numbers and card numbers (Luhn-checked) with
 * {@code [EMAIL]}, {@code [PHONE]}, {@code [CARD]} in the request's messages or prompt, so no model
 * or provider sees them, and in the answer, streamed or not.
 *
 * <p>Settings: {@code redact: [email, phone, card]} (default all three) and
 * {@code in: [request, response]} (default both).
 */
public final class PiiRedactionPlugin implements GatehousePlugin {
    private PiiRedactor redactor = new PiiRedactor(EnumSet.allOf(PiiKind.class));
    private boolean inRequest = true;
    private boolean inResponse = true;

    @Override
    public String name() {
        return "pii-redaction";
    }

    @Override
    public void configure(JsonNode settings) {
        settings.fieldNames().forEachRemaining(k -> {
            if (!k.equals("redact") && !k.equals("in")) {
                throw new IllegalArgumentException("unknown key '" + k + "' (expected redact, in)");
            }
        });
        EnumSet<PiiKind> kinds = EnumSet.noneOf(PiiKind.class);
        for (String s : list(settings, "redact", List.of("email", "phone", "card"))) {
            PiiKind kind = PiiKind.of(s);
            if (kind == null) {
                throw new IllegalArgumentException("redact: unknown kind '" + s + "' (email, phone, card)");
            }
            kinds.add(kind);
        }
        List<String> in = list(settings, "in", List.of("request", "response"));
        for (String s : in) {
            if (!s.equals("request") && !s.equals("response")) {
                throw new IllegalArgumentException("in: unknown value '" + s + "' (request, response)");
            }
        }
        redactor = new PiiRedactor(kinds);
        inRequest = in.contains("request");
        inResponse = in.contains("response");
    }

    @Override
    public ChatRequest onRequest(ChatRequest r, PluginContext context) {
        if (!inRequest) {
            return r;
        }
        List<Message> messages = null;
        if (r.messages() != null) {
            messages = new ArrayList<>();
            for (Message m : r.messages()) { // the text the model reads; images and tool arguments pass as they are
                List<ContentPart> content = m.content().stream().map(p -> p instanceof ContentPart.Text t
                        ? (ContentPart) new ContentPart.Text(redactor.redact(t.text())) : p).toList();
                messages.add(new Message(m.role(), content, m.toolCalls(), m.toolCallId()));
            }
        }
        List<String> prompts = r.prompts() == null ? null : r.prompts().stream().map(redactor::redact).toList();
        return r.withInput(messages, prompts);
    }

    @Override
    public ChatStream onResponse(ChatRequest request, ChatStream response) {
        return inResponse ? new RedactingStream(response, redactor) : response;
    }

    /** A list of strings, or a single string, or {@code otherwise} when the key is absent. */
    private static List<String> list(JsonNode settings, String key, List<String> otherwise) {
        JsonNode n = settings.get(key);
        if (n == null) {
            return otherwise;
        }
        if (n.isTextual()) {
            return List.of(n.asText());
        }
        List<String> out = new ArrayList<>();
        if (n.isArray()) {
            for (JsonNode v : n) {
                if (!v.isTextual()) {
                    throw new IllegalArgumentException(key + " must be a list of names");
                }
                out.add(v.asText());
            }
            return out;
        }
        throw new IllegalArgumentException(key + " must be a list of names");
    }
}
