package dev.gatehouse.gateway.backend.local.tools;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.gateway.chat.ChatEvent;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Turns one choice's generated text, as it streams, into text and tool-call events in the model's
 * {@link ToolFormat}. Text that may be the start of a call is held back until it is known not to be
 * one: for Hermes at most the length of {@code <tool_call>}; for Llama 3 and Mistral, whose calls
 * make up the whole answer, only the answer's opening ({@code {"name"} or {@code [{"name"}). Each
 * call is sent when its JSON object is complete: its id and name, its arguments, its end. What looks
 * like a call but is not valid JSON with a {@code name} reaches the client as text, nothing is lost.
 * Not thread-safe: one per choice.
 */
public final class ToolCallParser {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String HERMES_OPEN = "<tool_call>";
    private static final String HERMES_CLOSE = "</tool_call>";

    private final int index;
    private final ToolFormat format;
    private final StringBuilder pending = new StringBuilder();
    private final List<ChatEvent> out = new ArrayList<>();
    /** Llama 3 and Mistral: nothing but whitespace has been seen, the answer may still be calls. */
    private boolean atStart = true;
    /** Inside a call: after {@code <tool_call>}, or (Llama 3, Mistral) in an answer made of calls. */
    private boolean inCall;
    private final JsonObjects objects = new JsonObjects();
    private int calls;

    public ToolCallParser(int index, ToolFormat format) {
        this.index = index;
        this.format = format;
    }

    /** Whether a call has been sent: the choice then finishes with {@code tool_calls}. */
    public boolean calledTools() {
        return calls > 0;
    }

    /** The events that {@code text}, the next generated text, completes (possibly none). */
    public List<ChatEvent> feed(String text) {
        out.clear();
        if (format == ToolFormat.HERMES) {
            pending.append(text);
            hermes(false);
        } else if (inCall) {
            objects.feed(text);
        } else if (atStart) {
            pending.append(text);
            opening();
        } else {
            text(text);
        }
        return List.copyOf(out);
    }

    /** The events of what is still held back, at the end of the answer. */
    public List<ChatEvent> finish() {
        out.clear();
        if (format == ToolFormat.HERMES) {
            hermes(true);
        } else if (inCall) {
            objects.finish();
        } else {
            text(pending.toString());
        }
        pending.setLength(0);
        return List.copyOf(out);
    }

    private void hermes(boolean end) {
        while (true) {
            if (inCall) {
                int close = pending.indexOf(HERMES_CLOSE);
                if (close < 0 && !end) {
                    return;
                }
                String body = close < 0 ? pending.toString() : pending.substring(0, close);
                if (!call(body)) {
                    text(HERMES_OPEN + body + (close < 0 ? "" : HERMES_CLOSE));
                }
                pending.delete(0, close < 0 ? pending.length() : close + HERMES_CLOSE.length());
                inCall = false;
                if (close < 0) {
                    return;
                }
            } else {
                int open = pending.indexOf(HERMES_OPEN);
                if (open >= 0) {
                    text(pending.substring(0, open));
                    pending.delete(0, open + HERMES_OPEN.length());
                    inCall = true;
                    continue;
                }
                int keep = end ? 0 : partialMarker(pending, HERMES_OPEN);
                text(pending.substring(0, pending.length() - keep));
                pending.delete(0, pending.length() - keep);
                return;
            }
        }
    }

    /** Llama 3 and Mistral: decides, from the answer's first characters, whether it is made of calls. */
    private void opening() {
        String s = pending.toString().stripLeading();
        String marker = format == ToolFormat.MISTRAL ? "[TOOL_CALLS]" : "<|python_tag|>";
        String json = format == ToolFormat.MISTRAL ? "[{\"name\"" : "{\"name\"";
        String compact = s.replaceAll("\\s", "");
        if (s.isEmpty() || marker.startsWith(s) || json.startsWith(compact)) {
            return; // may still become a call
        }
        atStart = false;
        String held = pending.toString();
        pending.setLength(0);
        if (s.startsWith(marker) || compact.startsWith(json)) {
            inCall = true;
            objects.feed(s.startsWith(marker) ? s.substring(marker.length()) : s);
        } else {
            text(held);
        }
    }

    /** Parses one call object; false when it is not valid JSON naming a tool. */
    private boolean call(String body) {
        JsonNode node;
        try {
            node = JSON.readTree(body.strip());
        } catch (JsonProcessingException e) {
            return false;
        }
        if (node == null || !node.isObject() || !node.path("name").isTextual()) {
            return false;
        }
        JsonNode args = node.has("arguments") ? node.get("arguments") : node.get("parameters");
        String arguments = args == null || args.isNull() ? "{}" : args.isTextual() ? args.asText() : args.toString();
        int call = calls++;
        out.add(new ChatEvent.ToolCallStart(index, call, newId(), node.get("name").asText()));
        out.add(new ChatEvent.ToolCallDelta(index, call, arguments));
        out.add(new ChatEvent.ToolCallEnd(index, call));
        return true;
    }

    private void text(String text) {
        if (!text.isEmpty()) {
            out.add(new ChatEvent.Delta(index, text, null));
        }
    }

    /** The length of the longest end of {@code text} that {@code marker} starts with. */
    private static int partialMarker(CharSequence text, String marker) {
        for (int n = Math.min(marker.length() - 1, text.length()); n > 0; n--) {
            if (marker.startsWith(text.subSequence(text.length() - n, text.length()).toString())) {
                return n;
            }
        }
        return 0;
    }

    /** An id in OpenAI's shape, unique per call. */
    private static String newId() {
        return "call_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
    }

    /**
     * Splits an answer made of calls into its top-level JSON objects as they complete (brackets
     * counted outside strings). Separators between them ({@code ;}, {@code ,}, the array's brackets,
     * whitespace) are skipped; anything else is text.
     */
    private final class JsonObjects {
        private final StringBuilder object = new StringBuilder();
        private final StringBuilder stray = new StringBuilder();
        private int depth;
        private boolean inString;
        private boolean escaped;

        void feed(String text) {
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                if (depth == 0) {
                    if (c == '{') {
                        object.append(c);
                        depth = 1;
                    } else if (!Character.isWhitespace(c) && c != ';' && c != ',' && c != '[' && c != ']') {
                        stray.append(c);
                    }
                    continue;
                }
                object.append(c);
                if (inString) {
                    if (escaped) {
                        escaped = false;
                    } else if (c == '\\') {
                        escaped = true;
                    } else if (c == '"') {
                        inString = false;
                    }
                } else if (c == '"') {
                    inString = true;
                } else if (c == '{' || c == '[') {
                    depth++;
                } else if ((c == '}' || c == ']') && --depth == 0) {
                    if (!call(object.toString())) {
                        stray.append(object);
                    }
                    object.setLength(0);
                }
            }
        }

        void finish() {
            stray.append(object); // an object the answer did not complete
            if (!stray.isEmpty()) {
                text(stray.toString());
            }
        }
    }
}
