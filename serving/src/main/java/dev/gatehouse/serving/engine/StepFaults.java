package dev.gatehouse.serving.engine;

import dev.gatehouse.serving.arch.StepBatch;

/**
 * A test seam for the engine's failure paths: a test makes one forward pass, or one sequence's
 * token, throw as a broken device or a bug would, without needing a broken model. Production
 * engines use {@link #NONE}.
 */
interface StepFaults {
    StepFaults NONE = new StepFaults() {};

    /** Before each forward pass: a batched decode, or a group of prompt chunks. */
    default void beforeForward(StepBatch batch) {}

    /** Between two layers of a forward pass that pauses there (the step in Java), before anything runs in between. */
    default void betweenLayers(StepBatch batch) {}

    /** Before one sequence's next token is sampled from its logits and turned into text. */
    default void beforeToken(Sequence seq) {}
}
