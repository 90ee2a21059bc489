package dev.gatehouse.gateway.backend.local.tools;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.gateway.chat.ChatEvent;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns one choice's generated text, as it streams, into text and tool-call events in the model's
 * {@link ToolFormat}. Text that may be the start of a call is held back until it is known not to be
 * one: for Hermes at most the length of {@code <tool_call>}; for Llama 3 and Mistral, whose calls
 * make up the whole answer, only the answer's opening ({@code {"name"} or {@code [{"name"}). A call
 * written as {@code {"name": ..., "arguments": {...}}} streams as its id and name once they are read,
 * then its arguments as they come, then its end; one written otherwise (keys in another order,
 * arguments as a string) is sent when its JSON object is complete. What looks like a call but is not
 * valid JSON naming a tool reaches the client as text: nothing is lost. Not thread-safe: one per choice.
 */
public final class ToolCallParser {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String HERMES_OPEN = "<tool_call>";
    private static final String HERMES_CLOSE = "</tool_call>";
    /** A call's opening up to its arguments' value: the name may be streamed from here on. */
    private static final Pattern HEAD = Pattern.compile(
            "\\{\\s*\"name\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"\\s*,\\s*\"(?:arguments|parameters)\"\\s*:\\s*");

    private final int index;
    private final ToolFormat format;
    private final StringBuilder pending = new StringBuilder();
    private final List<ChatEvent> out = new ArrayList<>();
    /** Llama 3 and Mistral: nothing but whitespace has been seen, the answer may still be calls. */
    private boolean atStart = true;
    /** Inside a call: after {@code <tool_call>}, or (Llama 3, Mistral) in an answer made of calls. */
    private boolean inCall;
    /** Hermes: the text since {@code <tool_call>}, returned as text when it holds no call. */
    private final StringBuilder hermesBody = new StringBuilder();
    /** Hermes: the calls sent before the current {@code <tool_call>}. */
    private int callsBeforeBlock;
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
            text(objects.takeStray());
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
                // what may begin the closing marker waits, unless the answer ended
                int upTo = close >= 0 ? close : end ? pending.length() : pending.length() - partialMarker(pending, HERMES_CLOSE);
                String body = pending.substring(0, upTo);
                hermesBody.append(body);
                objects.feed(body);
                pending.delete(0, upTo);
                if (close < 0 && !end) {
                    return;
                }
                objects.finish();
                String stray = objects.takeStray();
                if (calls == callsBeforeBlock) { // no call in it: the client gets the text as written
                    text(HERMES_OPEN + hermesBody + (close < 0 ? "" : HERMES_CLOSE));
                } else {
                    text(stray);
                }
                hermesBody.setLength(0);
                inCall = false;
                if (close < 0) {
                    return;
                }
                pending.delete(0, HERMES_CLOSE.length());
            } else {
                int open = pending.indexOf(HERMES_OPEN);
                if (open >= 0) {
                    text(pending.substring(0, open));
                    pending.delete(0, open + HERMES_OPEN.length());
                    inCall = true;
                    callsBeforeBlock = calls;
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

    /** Parses one whole call object; false when it is not valid JSON naming a tool. */
    private boolean wholeCall(String body) {
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
     * Splits calls text into its top-level JSON objects (brackets counted outside strings), streaming
     * each one's arguments once its head ({@code {"name": "...", "arguments": }) is read. Separators
     * between objects ({@code ;}, {@code ,}, an array's brackets, whitespace) are skipped; anything
     * else is kept as stray text.
     */
    private final class JsonObjects {
        private final StringBuilder object = new StringBuilder();
        private final StringBuilder stray = new StringBuilder();
        private int depth;
        private boolean inString;
        private boolean escaped;
        /** The call whose arguments are streaming, or -1. */
        private int streaming = -1;
        /** Whether the streaming call's arguments value is complete (its object may still be open). */
        private boolean argumentsDone;

        void feed(String text) {
            StringBuilder arguments = new StringBuilder();
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
                if (streaming < 0 && depth == 1 && !inString && c == '{') { // an object value opens: the arguments?
                    Matcher head = HEAD.matcher(object);
                    if (head.matches()) {
                        streaming = calls++;
                        out.add(new ChatEvent.ToolCallStart(index, streaming, newId(), unescape(head.group(1))));
                    }
                }
                object.append(c);
                boolean inArguments = streaming >= 0 && !argumentsDone;
                if (inArguments) {
                    arguments.append(c);
                }
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
                } else if (c == '}' || c == ']') {
                    depth--;
                    if (inArguments && depth == 1) {
                        argumentsDone = true;
                    }
                    if (depth == 0) {
                        flush(arguments);
                        endObject();
                    }
                }
            }
            flush(arguments);
        }

        private void flush(StringBuilder arguments) {
            if (streaming >= 0 && !arguments.isEmpty()) {
                out.add(new ChatEvent.ToolCallDelta(index, streaming, arguments.toString()));
            }
            arguments.setLength(0);
        }

        /** An object is complete: the streamed call ends, or the whole object is parsed as a call. */
        private void endObject() {
            if (streaming >= 0) {
                out.add(new ChatEvent.ToolCallEnd(index, streaming));
            } else if (!wholeCall(object.toString())) {
                stray.append(object);
            }
            object.setLength(0);
            streaming = -1;
            argumentsDone = false;
        }

        /** The answer ended: a streamed call ends as it is, an unfinished object is text. */
        void finish() {
            if (streaming >= 0) {
                out.add(new ChatEvent.ToolCallEnd(index, streaming));
            } else {
                stray.append(object);
            }
            object.setLength(0);
            streaming = -1;
            argumentsDone = false;
            depth = 0;
            inString = false;
            escaped = false;
        }

        String takeStray() {
            String s = stray.toString();
            stray.setLength(0);
            return s;
        }
    }

    private static String unescape(String jsonStringContent) {
        try {
            return JSON.readValue("\"" + jsonStringContent + "\"", String.class);
        } catch (JsonProcessingException e) {
            return jsonStringContent; // the pattern only lets valid escapes through; kept as written otherwise
        }
    }
}
