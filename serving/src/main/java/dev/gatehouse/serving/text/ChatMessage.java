package dev.gatehouse.serving.text;

/**
 * One chat turn as a chat template sees it.
 *
 * @param role "system", "user", "assistant", or whatever roles the model's template accepts
 * @param content the message text
 */
public record ChatMessage(String role, String content) {}
