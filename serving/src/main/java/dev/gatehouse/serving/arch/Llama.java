package dev.gatehouse.serving.arch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.gatehouse.serving.cpu.RowOps;
import dev.gatehouse.serving.load.ModelConfig;

/**
 * The Llama family: Llama 2/3 (with llama3 rope scaling), Mistral (sliding window), Qwen2 (q/k/v
 * bias) and Qwen3 (per-head RMSNorm of q and k). Pre-norm decoder layers: RMSNorm, attention with
 * rotary positions and grouped-query heads, RMSNorm, SwiGLU MLP.
 *
 * <p>At load, q/k/v projections are concatenated into one matrix and gate/up into another, so a
 * layer runs three matmuls in place of seven (for 16-bit weights kept as stored, without a copy).
 *
 * <p>When the Java kernels hold every matrix ({@code weights-dtype: stored}, on the CPU) and the KV
 * cache is open to Java, a step runs wholly on float[] rows ({@link #forwardInJava}): no PyTorch op,
 * one tensor created (the logits). Otherwise the tensor ops run, around Java products where there are
 * any. Both read the same weights, so the model is defined once.
 */
public final class Llama extends DecoderModel {
    private final Rope rope;
    private final Weight embed;
    private final RmsNorm finalNorm;
    private final Weight lmHead;
    private final Layer[] layers;
    private final boolean usesFullAttention; // some layer is not windowed (Mistral and Qwen may window all or some)
    private final boolean matricesInJava; // every matrix is the Java kernels': a step can run without PyTorch

    private record Layer(RmsNorm inputNorm, Weight qkv, Param qkvBias, Param qkNorm, Weight out, Param outBias,
                         RmsNorm postNorm, Weight gateUp, Weight down) {
        /** Whether the Java kernels hold this layer's matrices, so its second half runs on float[] rows. */
        boolean inJava() {
            return out.cpu() != null && gateUp.cpu() != null && down.cpu() != null;
        }
    }

    public Llama(ModelConfig cfg, WeightLoader w) {
        super(cfg, w);
        this.rope = new Rope(cfg.headDim(), cfg.ropeTheta(), cfg.ropeScaling(), manager, dtype);
        long hidden = cfg.hiddenSize();
        long q = (long) cfg.numHeads() * cfg.headDim();
        long kv = (long) cfg.numKvHeads() * cfg.headDim();
        long inter = cfg.intermediateSize();
        embed = w.matrix("model.embed_tokens.weight", cfg.vocabSize(), hidden);
        finalNorm = RmsNorm.of(w.tensor("model.norm.weight", hidden), cfg.normEps());
        // untied without lm_head.weight is refused (the load names the missing tensor), never run on the embeddings
        lmHead = cfg.tieWordEmbeddings() ? embed : w.matrix("lm_head.weight", cfg.vocabSize(), hidden);
        layers = new Layer[cfg.numLayers()];
        boolean full = false;
        for (int i = 0; i < layers.length; i++) {
            full |= cfg.slidingWindow(i) == null;
        }
        usesFullAttention = full;
        for (int i = 0; i < layers.length; i++) {
            String p = "model.layers." + i + ".";
            String a = p + "self_attn.";
            Weight qkv = w.stacked(new String[] {a + "q_proj.weight", a + "k_proj.weight", a + "v_proj.weight"},
                    new long[] {q, kv, kv}, hidden);
            Param qkvBias = cfg.qkvBias() ? Param.of(concat(w.tensor(a + "q_proj.bias", q),
                    w.tensor(a + "k_proj.bias", kv), w.tensor(a + "v_proj.bias", kv))) : null;
            Param qkNorm = cfg.qkNorm() ? Param.of(headNorms(w.tensor(a + "q_norm.weight", cfg.headDim()),
                    w.tensor(a + "k_norm.weight", cfg.headDim()))) : null;
            Weight gateUp = w.stacked(new String[] {p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight"},
                    new long[] {inter, inter}, hidden);
            layers[i] = new Layer(RmsNorm.of(w.tensor(p + "input_layernorm.weight", hidden), cfg.normEps()), qkv, qkvBias, qkNorm,
                    w.matrix(a + "o_proj.weight", hidden, q),
                    cfg.outBias() ? Param.of(w.tensor(a + "o_proj.bias", hidden)) : null,
                    RmsNorm.of(w.tensor(p + "post_attention_layernorm.weight", hidden), cfg.normEps()), gateUp,
                    w.matrix(p + "mlp.down_proj.weight", hidden, inter));
        }
        boolean allInJava = embed.cpu() != null && lmHead.cpu() != null;
        for (Layer layer : layers) {
            allInJava &= layer.inJava() && layer.qkv().cpu() != null;
        }
        matricesInJava = allInJava;
    }

    private static NDArray concat(NDArray... parts) {
        NDArray joined = NDArrays.concat(new NDList(parts), 0);
        for (NDArray part : parts) {
            part.close();
        }
        return joined;
    }

    /** Qwen3's q and k norms as one [heads + kvHeads, headDim] weight, so both are normed in one op. */
    private NDArray headNorms(NDArray qNorm, NDArray kNorm) {
        NDArray joined = NDArrays.concat(new NDList(
                qNorm.expandDims(0).repeat(0, cfg.numHeads()), kNorm.expandDims(0).repeat(0, cfg.numKvHeads())), 0);
        qNorm.close();
        kNorm.close();
        return joined;
    }

    /** After attention: x + o_proj(attn), then that + down(silu(gate) * up) of its norm. */
    private NDArray secondHalf(NDArray x, NDArray attn, Layer layer) {
        x = x.add(layer.out().linear(attn, bias(layer.outBias())));
        NDList gateAndUp = layer.gateUp().normThenLinear(x, layer.postNorm(), null).split(new long[] {cfg.intermediateSize()}, 2);
        return x.add(layer.down().linear(Layers.silu(gateAndUp.get(0)).mul(gateAndUp.get(1)), null));
    }

    private static NDArray bias(Param bias) {
        return bias == null ? null : bias.tensor();
    }

    /**
     * {@link #secondHalf} on float[] rows with the Java kernels: the same arithmetic in two reads and
     * one write of PyTorch memory, where the tensor ops cost a dozen JNI calls, each dearer than the
     * arithmetic when a step decodes a token.
     */
    private NDArray secondHalfInJava(NDArray x, NDArray attn, Layer layer) {
        float[] xs = x.toFloatArray();
        int rows = xs.length / cfg.hiddenSize();
        secondHalfOnRows(xs, attn.toFloatArray(), layer, new Rows(cfg, rows));
        return x.getManager().create(xs, x.getShape());
    }

    /** {@link #secondHalf} on {@code rows.count} rows: x (the residual stream) is updated in place. */
    private void secondHalfOnRows(float[] x, float[] attn, Layer layer, Rows rows) {
        int n = rows.count;
        int hidden = cfg.hiddenSize();
        layer.out().cpu().multiply(attn, n, rows.out);
        if (layer.outBias() != null) {
            addToEachRow(rows.out, n, layer.outBias().values());
        }
        RowOps.add(x, 0, rows.out, n * hidden);
        RowOps.rmsNorm(x, n, hidden, layer.postNorm().values(), layer.postNorm().eps(), rows.normed);
        layer.gateUp().cpu().multiply(rows.normed, n, rows.gateUp);
        RowOps.siluTimesUp(rows.gateUp, n, cfg.intermediateSize(), rows.act);
        layer.down().cpu().multiply(rows.act, n, rows.out);
        RowOps.add(x, 0, rows.out, n * hidden);
    }

    private static void addToEachRow(float[] rows, int n, float[] bias) {
        for (int r = 0; r < n; r++) {
            RowOps.add(rows, r * bias.length, bias, bias.length);
        }
    }

    /** A step's working rows, reused by every layer: {@code count} tokens' worth of each intermediate. */
    private static final class Rows {
        final int count;
        final float[] normed;
        final float[] qkv;
        final float[] attn;
        final float[] out;
        final float[] gateUp;
        final float[] act;

        Rows(ModelConfig cfg, int count) {
            this.count = count;
            int heads = cfg.numHeads() + 2 * cfg.numKvHeads();
            normed = new float[count * cfg.hiddenSize()];
            qkv = new float[count * heads * cfg.headDim()];
            attn = new float[count * cfg.numHeads() * cfg.headDim()];
            out = new float[count * cfg.hiddenSize()];
            gateUp = new float[count * 2 * cfg.intermediateSize()];
            act = new float[count * cfg.intermediateSize()];
        }
    }

    /**
     * The whole step on float[] rows: the Java kernels' products, {@link RowOps}, and
     * {@link RowAttention} over the KV cache in place. The same arithmetic as the tensor ops, in FP32;
     * one tensor is created, the logits.
     */
    private NDArray forwardInJava(StepBatch batch, KvCache cache, NDManager step) {
        JavaPass pass = new JavaPass(batch, cache, step);
        while (!pass.advance()) {
            // a layer at a time
        }
        return pass.logits();
    }

    /** {@link #forwardInJava} a layer per {@link #advance}: its state lives here between layers, on no other pass's rows. */
    private final class JavaPass implements ForwardPass {
        private final StepBatch batch;
        private final NDManager step;
        private final int n;
        private final RowAttention attention;
        private final float[] x;
        private final float[][] angles;
        private final Rows rows;
        private int next; // the layer the next advance runs

        JavaPass(StepBatch batch, KvCache cache, NDManager step) {
            this.batch = batch;
            this.step = step;
            int hidden = cfg.hiddenSize();
            n = batch.batchSize() * batch.tokensPerSeq();
            attention = new RowAttention(batch, cache, cfg.numHeads(), cfg.numKvHeads(), cfg.headDim());
            x = new float[n * hidden];
            for (int i = 0; i < n; i++) {
                int id = batch.tokens()[i];
                if (id < 0 || id >= embed.cpu().rows()) {
                    throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + embed.cpu().rows());
                }
                embed.cpu().widenRow(id, x, i * hidden);
            }
            angles = rope.halfAngles(batch);
            rows = new Rows(cfg, n);
        }

        @Override
        public boolean advance() {
            if (next < layers.length) {
                layer(next++);
            }
            return next == layers.length;
        }

        private void layer(int i) {
            int hidden = cfg.hiddenSize();
            int heads = cfg.numHeads();
            int kvHeads = cfg.numKvHeads();
            int headDim = cfg.headDim();
            int width = (heads + 2 * kvHeads) * headDim;
            Layer layer = layers[i];
            RowOps.rmsNorm(x, n, hidden, layer.inputNorm().values(), layer.inputNorm().eps(), rows.normed);
            layer.qkv().cpu().multiply(rows.normed, n, rows.qkv);
            if (layer.qkvBias() != null) {
                addToEachRow(rows.qkv, n, layer.qkvBias().values());
            }
            for (int r = 0; r < n; r++) {
                if (layer.qkNorm() != null) {
                    for (int h = 0; h < heads + kvHeads; h++) {
                        int at = r * width + h * headDim;
                        RowOps.rmsNorm(rows.qkv, at, headDim, layer.qkNorm().values(), h * headDim, cfg.normEps(), rows.qkv, at);
                    }
                }
                rope.rotate(rows.qkv, r * width, heads + kvHeads, angles, r);
            }
            Integer window = cfg.slidingWindow(i);
            attention.run(i, rows.qkv, window == null ? 0 : window, rows.attn);
            secondHalfOnRows(x, rows.attn, layer, rows);
        }

        @Override
        public NDArray logits() {
            int hidden = cfg.hiddenSize();
            int t = batch.tokensPerSeq();
            int b = batch.batchSize();
            float[] last = new float[b * hidden];
            for (int s = 0; s < b; s++) {
                RowOps.rmsNorm(x, (s * t + t - 1) * hidden, hidden, finalNorm.values(), 0, finalNorm.eps(), last, s * hidden);
            }
            int vocab = lmHead.cpu().rows();
            float[] logits = new float[b * vocab];
            lmHead.cpu().multiply(last, b, logits);
            // written into a tensor PyTorch allocated: create(float[]) would first copy into a fresh zeroed direct
            // buffer, freed only by a later GC, so each step's logits landed on new pages (0.1-1 ms a token)
            NDArray out = step.create(new Shape(b, vocab), DataType.FLOAT32);
            out.toByteBuffer(true).asFloatBuffer().put(logits);
            return out;
        }
    }

    /** The step in Java pauses between layers; the tensor ops' step runs whole. */
    @Override
    public ForwardPass start(StepBatch batch, KvCache cache, NDManager step) {
        return matricesInJava && cache.inJava() ? new JavaPass(batch, cache, step) : super.start(batch, cache, step);
    }

    @Override
    public NDArray forward(StepBatch batch, KvCache cache, NDManager step) {
        if (matricesInJava && cache.inJava()) {
            return forwardInJava(batch, cache, step);
        }
        int b = batch.batchSize();
        int t = batch.tokensPerSeq();
        int heads = cfg.numHeads();
        int kvHeads = cfg.numKvHeads();
        StepUploads uploads = new StepUploads();
        StepUploads.Ref ids = uploads.ints(batch.tokens(), new Shape(b, t));
        StepUploads.Ref[] angles = rope.angles(batch, uploads);
        Attention attention = new Attention(batch, cache, heads, kvHeads, cfg.headDim(), cfg.slidingWindow(),
                usesFullAttention, uploads);
        uploads.send(step, dtype);
        NDArray x = embed.embedding(ids.get());
        for (int i = 0; i < layers.length; i++) {
            Layer layer = layers[i];
            // a layer's intermediates (attention scores above all) are freed when it ends, not with the step
            try (NDManager layerManager = step.newSubManager()) {
                x.attach(layerManager); // the previous residual goes with this layer
                NDList qkAndV = layer.qkv().normThenLinear(x, layer.inputNorm(), bias(layer.qkvBias()))
                        .reshape(b, t, heads + 2L * kvHeads, cfg.headDim())
                        .split(new long[] {heads + kvHeads}, 2);
                NDArray qk = qkAndV.get(0);
                if (layer.qkNorm() != null) {
                    qk = Layers.rmsNorm(qk, layer.qkNorm().tensor(), cfg.normEps());
                }
                NDList qAndK = rope.apply(qk, angles).split(new long[] {heads}, 2);
                boolean windowed = cfg.slidingWindow(i) != null;
                NDArray attn = attention.run(i, qAndK.get(0), qAndK.get(1), qkAndV.get(1), windowed, layerManager);
                x = layer.inJava() ? secondHalfInJava(x, attn, layer) : secondHalf(x, attn, layer);
                x.attach(step);
            }
        }
        NDArray last = t == 1 ? x.squeeze(1) : x.get(new NDIndex(":, " + (t - 1)));
        NDArray logits = lmHead.normThenLinear(last, finalNorm, null);
        return logits.toType(DataType.FLOAT32, false);
    }
}
