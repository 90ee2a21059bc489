package dev.gatehouse.gateway.chat;

import java.util.List;

/**
 * One turn of a conversation. {@code role} is one of {@link #SYSTEM}, {@link #USER},
 * {@link #ASSISTANT} or {@link #TOOL} (the decoders map their dialect's roles onto these).
 * {@code content} is its text and images, empty for an assistant turn that only calls tools;
 * {@code toolCalls} are an assistant turn's calls (empty otherwise); {@code toolCallId} is, on a tool
 * turn, the id of the call whose result the content is.
 */
public record Message(String role, List<ContentPart> content, List<ToolCall> toolCalls, String toolCallId) {
    public static final String SYSTEM = "system";
    public static final String USER = "user";
    public static final String ASSISTANT = "assistant";
    public static final String TOOL = "tool";

    public Message {
        content = List.copyOf(content);
        toolCalls = List.copyOf(toolCalls);
    }

    /** A turn of plain text. */
    public Message(String role, String text) {
        this(role, List.of(new ContentPart.Text(text)), List.of(), null);
    }

    /** The text parts joined: what a text-only model reads, and what token estimates count. */
    public String text() {
        if (content.size() == 1 && content.getFirst() instanceof ContentPart.Text t) {
            return t.text();
        }
        StringBuilder out = new StringBuilder();
        for (ContentPart p : content) {
            if (p instanceof ContentPart.Text t) {
                out.append(t.text());
            }
        }
        return out.toString();
    }

    public boolean hasImages() {
        return content.stream().anyMatch(p -> p instanceof ContentPart.Image);
    }
}
