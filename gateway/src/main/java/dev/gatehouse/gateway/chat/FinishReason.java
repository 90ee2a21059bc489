package dev.gatehouse.gateway.chat;

/**
 * Why a choice ended, as a closed set every backend maps its own words onto and every dialect
 * encoder maps back to its own ("stop" and "tool_calls" for OpenAI, "end_turn" and "tool_use" for
 * Anthropic, ...).
 */
public enum FinishReason {
    /** The model ended its answer, or hit a stop sequence. */
    STOP,
    /** max_tokens, or the end of the context. */
    LENGTH,
    /** The model asked for one or more tool calls. */
    TOOL_CALLS,
    /** The provider withheld the answer (or the rest of it). */
    CONTENT_FILTER
}
