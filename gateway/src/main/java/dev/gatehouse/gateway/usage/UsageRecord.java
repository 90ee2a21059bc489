package dev.gatehouse.gateway.usage;

import java.time.Instant;

/**
 * One request as the usage log keeps it.
 *
 * @param keyId     the virtual key's id, or {@code jwt:USER}; null for the master key or an open server
 * @param user      who the caller says the request is for (JWT subject, else the body's {@code user})
 * @param model     the model name the client asked for; null when the request never named one
 * @param backend   who answered ({@code local:NAME}, {@code openai:gpt-4o-mini}, {@code cache}); null when nobody did
 * @param status    the HTTP status sent (499 when the client went away)
 * @param fallbacks the targets passed over, comma-separated, each with why; empty when none
 * @param rule      the route and the rule of it that picked the targets ({@code chat:eu}, {@code chat:default});
 *                  null when the request was not routed
 */
public record UsageRecord(Instant at, String route, String keyId, String user, String model, String backend,
                          long promptTokens, long completionTokens, double costUsd, long latencyMillis, int status,
                          String fallbacks, boolean cached, String rule) {}
