package dev.gatehouse.gateway.route;

/**
 * A target a model name may reach, as the usage log names it ({@code local:NAME} or
 * {@code PROVIDER:MODEL}), with its context in tokens when known: what a request sent there can cost.
 */
public record Destination(String backend, Integer contextLength) {}
