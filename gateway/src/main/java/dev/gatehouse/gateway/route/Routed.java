package dev.gatehouse.gateway.route;

import dev.gatehouse.gateway.chat.ChatStream;

import java.util.List;

/**
 * The router's answer: the stream of the target that took the request, whose first event has
 * already arrived, who that target is ({@code local:NAME}, {@code openai:gpt-4o-mini}) and the
 * targets passed over before it, each with why.
 */
public record Routed(ChatStream stream, String backend, List<String> fallbacks) {}
