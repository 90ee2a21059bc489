package dev.gatehouse.serving.engine;

/**
 * Where a request's time went, in nanoseconds.
 *
 * @param queueNanos         submit until its prefill started
 * @param timeToFirstToken   submit until the first token
 * @param meanInterTokenNanos mean gap between later tokens (0 with fewer than two tokens)
 * @param endToEndNanos      submit until finished
 */
public record RequestTimings(long queueNanos, long timeToFirstToken, long meanInterTokenNanos, long endToEndNanos) {}
