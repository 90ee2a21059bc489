package dev.gatehouse.serving.engine;

/** Why a generation ended, in OpenAI's words: an eos token or stop string, or the token limit. */
public enum FinishReason {
    STOP, LENGTH;

    public String wireName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
