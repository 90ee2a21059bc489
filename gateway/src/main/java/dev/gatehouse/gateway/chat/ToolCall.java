package dev.gatehouse.gateway.chat;

/**
 * A call the model made, as it sits in an assistant turn of the conversation: the id its result
 * refers to, the tool's name, and the arguments as the JSON text the model wrote (kept as text, not
 * parsed: a model may write invalid JSON and the client decides what to do with it).
 */
public record ToolCall(String id, String name, String arguments) {}
