package dev.gatehouse.serving.embed;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/** A transformer encoder: token ids in, one hidden state per token out. */
public interface Encoder extends AutoCloseable {

    /**
     * @param ids [batch, tokens] token ids, padded with 0 past each input's length
     * @param mask [batch, tokens] 1 for a real token and 0 for padding
     * @param step the manager the result and every intermediate live in
     * @return [batch, tokens, hidden] FP32
     */
    NDArray forward(long[][] ids, long[][] mask, NDManager step);

    int hiddenSize();

    /** Rows of the token embedding table: valid token ids are 0 to vocabSize - 1. */
    int vocabSize();

    /** A PyTorch manager on the encoder's device, for one batch's arrays; closed after the batch. */
    NDManager newStepManager();

    @Override
    void close();
}
