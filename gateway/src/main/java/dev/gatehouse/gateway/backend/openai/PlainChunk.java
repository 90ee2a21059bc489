package dev.gatehouse.gateway.backend.openai;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.gatehouse.gateway.backend.ProviderHttp;
import dev.gatehouse.gateway.chat.ChatEvent;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A streamed chat or completion chunk with nothing but text, a finish reason and usage, read with a
 * streaming parser; {@link #read} gives null for any other chunk, which {@link OpenAiEventTranslator}
 * then reads as a tree. "Nothing else" is judged as the tree reading would see it: an error object,
 * tool calls, logprobs, choices that are not an array, or a field it reads that has an unexpected
 * type or comes twice make the chunk not plain; fields it does not read are skipped.
 */
record PlainChunk(List<PlainChoice> choices, ChatEvent.Usage usage) {

    /** One choice: its index, its text ("" when none) and its finish reason (null while it runs). */
    record PlainChoice(int index, String text, String finishReason) {}

    static PlainChunk read(String json) throws IOException {
        try (JsonParser p = ProviderHttp.MAPPER.createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            List<PlainChoice> choices = List.of();
            ChatEvent.Usage usage = null;
            boolean sawChoices = false;
            boolean sawUsage = false;
            for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
                String name = p.currentName();
                JsonToken value = p.nextToken();
                switch (name) {
                    case "choices" -> {
                        if (sawChoices || value != JsonToken.START_ARRAY) {
                            return null;
                        }
                        sawChoices = true;
                        choices = new ArrayList<>(1);
                        for (JsonToken c = p.nextToken(); c != JsonToken.END_ARRAY; c = p.nextToken()) {
                            if (c == JsonToken.START_OBJECT) {
                                PlainChoice choice = choice(p);
                                if (choice == null) {
                                    return null;
                                }
                                choices.add(choice);
                            } else {
                                p.skipChildren(); // not a choice: the tree reading finds nothing in it either
                            }
                        }
                    }
                    case "usage" -> {
                        if (sawUsage) {
                            return null;
                        }
                        sawUsage = true;
                        if (value == JsonToken.START_OBJECT) {
                            usage = usage(p);
                            if (usage == null) {
                                return null;
                            }
                        } else {
                            p.skipChildren(); // usage that is not an object is no usage
                        }
                    }
                    case "error" -> {
                        return null;
                    }
                    default -> p.skipChildren();
                }
            }
            return new PlainChunk(choices, usage);
        }
    }

    /** A choice from its START_OBJECT to its END_OBJECT; null when it is not plain. */
    private static PlainChoice choice(JsonParser p) throws IOException {
        int index = 0;
        String content = null; // delta.content
        String text = null; // text, for completions
        boolean delta = false;
        String finishReason = null;
        int seen = 0; // the fields read so far, one bit each
        for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
            String name = p.currentName();
            JsonToken value = p.nextToken();
            int bit = switch (name) {
                case "index" -> 1;
                case "delta" -> 2;
                case "text" -> 4;
                case "logprobs" -> 8;
                case "finish_reason" -> 16;
                default -> 0;
            };
            if ((seen & bit) != 0) {
                return null;
            }
            seen |= bit;
            switch (name) {
                case "index" -> {
                    if (value != JsonToken.VALUE_NUMBER_INT || p.getNumberType() != JsonParser.NumberType.INT) {
                        return null;
                    }
                    index = p.getIntValue();
                }
                case "delta" -> {
                    delta = true;
                    if (value == JsonToken.START_OBJECT) {
                        content = deltaContent(p);
                        if (content == null) {
                            return null;
                        }
                    } else if (value != JsonToken.VALUE_NULL) {
                        return null;
                    }
                }
                case "text" -> {
                    if (value == JsonToken.VALUE_STRING) {
                        text = p.getText();
                    } else if (value != JsonToken.VALUE_NULL) {
                        return null;
                    }
                }
                case "logprobs" -> {
                    if (value != JsonToken.VALUE_NULL) {
                        return null;
                    }
                }
                case "finish_reason" -> {
                    if (value == JsonToken.VALUE_STRING) {
                        finishReason = p.getText();
                    } else {
                        p.skipChildren(); // not text: no finish, as the tree reading has it
                    }
                }
                default -> p.skipChildren();
            }
        }
        String said = delta ? content : text;
        return new PlainChoice(index, said == null ? "" : said, finishReason);
    }

    /**
     * A delta's content ("" when absent or null) from its START_OBJECT to its END_OBJECT; null when
     * the delta holds tool calls, or a content that is not text, or a field twice.
     */
    private static String deltaContent(JsonParser p) throws IOException {
        String content = "";
        boolean sawContent = false;
        boolean sawCalls = false;
        for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
            String name = p.currentName();
            JsonToken value = p.nextToken();
            if (name.equals("content")) {
                if (sawContent) {
                    return null;
                }
                sawContent = true;
                if (value == JsonToken.VALUE_STRING) {
                    content = p.getText();
                } else if (value != JsonToken.VALUE_NULL) {
                    return null;
                }
            } else if (name.equals("tool_calls")) {
                if (sawCalls) {
                    return null;
                }
                sawCalls = true;
                if (value == JsonToken.START_ARRAY) {
                    if (p.nextToken() != JsonToken.END_ARRAY) {
                        return null; // a tool call: the tree reading follows its fragments
                    }
                } else if (value != JsonToken.VALUE_NULL) {
                    return null;
                }
            } else {
                p.skipChildren();
            }
        }
        return content;
    }

    /** Usage from its START_OBJECT to its END_OBJECT; null when a count is not a plain int or comes twice. */
    private static ChatEvent.Usage usage(JsonParser p) throws IOException {
        int prompt = 0;
        int completion = 0;
        int seen = 0;
        for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
            String name = p.currentName();
            JsonToken value = p.nextToken();
            int bit = name.equals("prompt_tokens") ? 1 : name.equals("completion_tokens") ? 2 : 0;
            if (bit == 0) {
                p.skipChildren();
                continue;
            }
            if ((seen & bit) != 0) {
                return null;
            }
            seen |= bit;
            int count;
            if (value == JsonToken.VALUE_NULL) {
                count = 0;
            } else if (value == JsonToken.VALUE_NUMBER_INT && p.getNumberType() == JsonParser.NumberType.INT) {
                count = p.getIntValue();
            } else {
                return null;
            }
            if (bit == 1) {
                prompt = count;
            } else {
                completion = count;
            }
        }
        return new ChatEvent.Usage(prompt, completion);
    }
}
