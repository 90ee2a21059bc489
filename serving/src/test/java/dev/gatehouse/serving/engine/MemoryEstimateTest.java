package dev.gatehouse.serving.engine;

import dev.gatehouse.serving.load.ModelLoadException;
import dev.gatehouse.serving.testing.SparseCheckpoint;
import dev.gatehouse.serving.testing.TensorDtype;
import dev.gatehouse.serving.testing.TestModelFolder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a model needs to serve, worked out from its headers before any weight is read. */
class MemoryEstimateTest {
    @TempDir
    static Path dir;
    static Path llama7b;

    @BeforeAll
    static void write() throws Exception {
        llama7b = SparseCheckpoint.llama2_7b(dir.resolve("llama-2-7b"), TensorDtype.BF16);
    }

    @Test
    void sparseCheckpointCostsNoDisk() throws Exception {
        Path weights = llama7b.resolve("model.safetensors");
        assertTrue(Files.size(weights) > 13_000_000_000L, "13.5 GB of BF16 by its length");
        Process du = new ProcessBuilder("du", "-k", weights.toString()).start(); // disk blocks, not length
        long allocatedKb = Long.parseLong(new String(du.getInputStream().readAllBytes()).split("\\s+")[0]);
        assertTrue(allocatedKb < 10_000, "sparse: " + allocatedKb + " kB on disk");
    }

    @Test
    void llama7bInBf16NeedsItsCheckpointSizeOnTheCpu() {
        MemoryEstimate e = MemoryEstimate.forEngine(llama7b, DtypeChoice.AUTO, EngineConfig.defaults());
        assertEquals(6_738_415_616L, SparseCheckpoint.parameterCount());
        long norms = 65L * SparseCheckpoint.HIDDEN; // two per layer and the final one, widened to F32
        assertEquals((SparseCheckpoint.parameterCount() - norms) * 2 + norms * 4, e.weightBytes(), "matrices kept BF16");
        assertEquals("BF16", e.weightType());
        assertTrue(e.breakdown().startsWith("weights 13.5 GB as BF16, KV cache 1.1 GB"), e.breakdown());
        // the KV cache is what the engine will allocate: 1 MiB a token in F32, within the default 1 GiB budget
        long perToken = 2L * 32 * 32 * 128 * 4;
        assertTrue(e.kvCacheBytes() <= KvBudget.CPU_DEFAULT && e.kvCacheBytes() > KvBudget.CPU_DEFAULT - perToken * 8,
                "kv " + e.kvCacheBytes());
        assertEquals(0, e.kvCacheBytes() % perToken);
        assertTrue(e.totalBytes() > 15_000_000_000L && e.totalBytes() < 16_000_000_000L, MemoryEstimate.gb(e.totalBytes()));
    }

    @Test
    void llama7bWidenedToF32NeedsTwiceItsCheckpoint() {
        MemoryEstimate e = MemoryEstimate.forEngine(llama7b, DtypeChoice.AUTO, WeightsDtype.F32, EngineConfig.defaults());
        assertEquals(SparseCheckpoint.parameterCount() * 4, e.weightBytes(), "BF16 widened to F32");
        assertEquals("float32", e.weightType());
        assertTrue(e.totalBytes() > 28_000_000_000L && e.totalBytes() < 31_000_000_000L, MemoryEstimate.gb(e.totalBytes()));
        assertTrue(e.breakdown().startsWith("weights 27.0 GB as float32 (BF16 widened to F32 on the CPU: "
                + "weights-dtype auto keeps them 16-bit)"), e.breakdown());
    }

    @Test
    void llama7bInBf16FitsA20GbLimitThatRefusesItWidened() {
        MemoryBudget budget = new MemoryBudget(20_000L << 20);
        // compared with the limit itself: check() also takes what this machine has free now, which varies
        assertTrue(MemoryEstimate.forEngine(llama7b, DtypeChoice.AUTO, EngineConfig.defaults()).totalBytes()
                <= budget.limitBytes());
        MemoryEstimate widened = MemoryEstimate.forEngine(llama7b, DtypeChoice.AUTO, WeightsDtype.F32, EngineConfig.defaults());
        assertThrows(ModelLoadException.class, () -> budget.check("llama-2-7b", widened, 0, MemoryBudget.SERVE_ADVICE));
    }

    @Test
    void kvCacheFollowsTheEngineSettings() {
        EngineConfig small = EngineConfig.defaults().withKvCacheBytes(256L << 20);
        MemoryEstimate e = MemoryEstimate.forEngine(llama7b, DtypeChoice.AUTO, small);
        assertEquals(256L << 20, e.kvCacheBytes());
        MemoryEstimate one = MemoryEstimate.forOneSequence(llama7b, DtypeChoice.AUTO, WeightsDtype.AUTO, 100);
        assertEquals(100L * 2 * 32 * 32 * 128 * 4, one.kvCacheBytes());
        assertEquals(SparseCheckpoint.MAX_POSITIONS * 2L * 32 * 32 * 128 * 4,
                MemoryEstimate.forOneSequence(llama7b, DtypeChoice.AUTO, WeightsDtype.AUTO, 1_000_000).kvCacheBytes(), "capped at the model's length");
    }

    @Test
    void float16IsHalfTheWeights() {
        MemoryEstimate e = MemoryEstimate.forOneSequence(llama7b, DtypeChoice.FLOAT16, WeightsDtype.AUTO, 1);
        assertEquals(SparseCheckpoint.parameterCount() * 2, e.weightBytes());
        assertTrue(e.breakdown().startsWith("weights 13.5 GB as float16, KV"), e.breakdown());
    }

    @Test
    void refusedUnderALimitWithOneLineSayingWhatToChange() throws Exception {
        MemoryEstimate e = MemoryEstimate.forEngine(llama7b, DtypeChoice.AUTO, WeightsDtype.F32, EngineConfig.defaults());
        MemoryBudget budget = new MemoryBudget(4L << 30); // below what any machine running the tests has free
        ModelLoadException refused = assertThrows(ModelLoadException.class,
                () -> budget.check("llama-2-7b", e, 2_000_000_000L, MemoryBudget.SERVE_ADVICE));
        String m = refused.getMessage();
        assertTrue(!m.contains("\n"), m);
        assertTrue(m.startsWith("not loading llama-2-7b: it needs about 29."), m);
        assertTrue(m.contains("BF16 widened to F32 on the CPU: weights-dtype auto keeps them 16-bit"), m);
        assertTrue(m.contains("only 2.3 GB is free (memory-limit-mb 4096, 2.0 GB held by loaded models)"), m);
        assertTrue(m.contains("smaller kv-cache-mb") && m.contains("unload another model"), m);

        Path tiny = TestModelFolder.llama().write(dir.resolve("tiny"));
        budget.check("tiny", MemoryEstimate.forEngine(tiny, DtypeChoice.AUTO, EngineConfig.defaults()), 0, MemoryBudget.SERVE_ADVICE); // fits: no throw
    }
}
