package dev.gatehouse.gateway.backend.local.tools;

import dev.gatehouse.serving.text.Tokenizer;

import java.util.Locale;

/**
 * How a model family writes a tool call in its answer. The parser of each is {@link ToolCallParser}.
 *
 * <ul>
 *   <li>{@link #HERMES}: {@code <tool_call>{"name": ..., "arguments": {...}}</tool_call>}, once per call
 *       (Qwen2.5, Qwen3, Hermes and many fine-tunes; also the format of the prompt fallback).</li>
 *   <li>{@link #LLAMA3_JSON}: the answer is {@code {"name": ..., "parameters": {...}}}, optionally after
 *       {@code <|python_tag|>}, several calls separated by {@code ;} (Llama 3.1 / 3.2 / 3.3).</li>
 *   <li>{@link #MISTRAL}: {@code [TOOL_CALLS][{"name": ..., "arguments": {...}}, ...]} (Mistral Instruct v0.3
 *       and later). The detokenizer drops the special {@code [TOOL_CALLS]} token, so an answer that starts
 *       with {@code [{"name"} counts as well.</li>
 * </ul>
 */
public enum ToolFormat {
    HERMES("hermes"),
    LLAMA3_JSON("llama3-json"),
    MISTRAL("mistral");

    private final String label;

    ToolFormat(String label) {
        this.label = label;
    }

    /** The name gatehouse.yaml uses ({@code tool-parser:}). */
    public String label() {
        return label;
    }

    /** A {@code tool-parser} value: hermes, llama3-json or mistral. */
    public static ToolFormat parse(String value) {
        for (ToolFormat f : values()) {
            if (f.label.equals(value.toLowerCase(Locale.ROOT))) {
                return f;
            }
        }
        throw new IllegalArgumentException("unknown tool parser '" + value + "' (expected auto, hermes, llama3-json or mistral)");
    }

    /**
     * The format a model's template and vocabulary point to: the markers its template writes for an
     * assistant's calls, else the special tokens its tokenizer has, else Hermes (the fallback's format).
     *
     * @param template the chat template text, or null
     * @param tokenizer the model's tokenizer, or null when not at hand
     */
    public static ToolFormat detect(String template, Tokenizer tokenizer) {
        String t = template == null ? "" : template;
        if (t.contains("<tool_call>")) {
            return HERMES;
        }
        if (t.contains("[TOOL_CALLS]")) {
            return MISTRAL;
        }
        if (t.contains("<|python_tag|>") || t.contains("ipython")) {
            return LLAMA3_JSON;
        }
        if (tokenizer != null) {
            if (isOneToken(tokenizer, "<tool_call>")) {
                return HERMES;
            }
            if (isOneToken(tokenizer, "[TOOL_CALLS]")) {
                return MISTRAL;
            }
            if (isOneToken(tokenizer, "<|python_tag|>")) {
                return LLAMA3_JSON;
            }
        }
        return HERMES;
    }

    /** Whether the vocabulary has {@code marker} as one (added or special) token. */
    private static boolean isOneToken(Tokenizer tokenizer, String marker) {
        int[] ids = tokenizer.encode(marker, false);
        return ids.length == 1 && marker.equals(tokenizer.tokenText(ids[0]));
    }
}
