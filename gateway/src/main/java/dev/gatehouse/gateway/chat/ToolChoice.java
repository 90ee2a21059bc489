package dev.gatehouse.gateway.chat;

/**
 * Whether the model must, may or must not call a tool, or must call one named tool. A request
 * without a choice leaves it to the provider (auto when tools are given).
 */
public record ToolChoice(Mode mode, String name) {
    public enum Mode { NONE, AUTO, REQUIRED, NAMED }

    public static final ToolChoice NONE = new ToolChoice(Mode.NONE, null);
    public static final ToolChoice AUTO = new ToolChoice(Mode.AUTO, null);
    public static final ToolChoice REQUIRED = new ToolChoice(Mode.REQUIRED, null);

    public static ToolChoice named(String name) {
        return new ToolChoice(Mode.NAMED, name);
    }
}
