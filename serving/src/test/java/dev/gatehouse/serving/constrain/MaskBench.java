package dev.gatehouse.serving.constrain;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.Set;

/**
 * The token mask alone, the worst case for its cache (docs/benchmarks.md): answers to one of
 * {@link ConstrainedGenerationTest#SCHEMAS} over Qwen3's vocabulary, each next token drawn uniformly from
 * those allowed, so answers wander through as many parse states as they can. Prints the mask time per step
 * for three fresh compilations (the first with a cold JIT). Run with {@code scripts/bench-structured masks [SCHEMA]}.
 */
public final class MaskBench {
    public static void main(String[] args) throws Exception {
        int schema = args.length > 0 ? Integer.parseInt(args[0]) : 0;
        Path dir = Files.createTempDirectory("mask-bench");
        TokenTrie trie = new TokenTrie(TokenVocabulary.load(RealTokenizers.write(RealTokenizers.QWEN3, dir)), Set.of(151_645));
        float[] logits = new float[151_936];
        for (int round = 0; round < 3; round++) {
            CompiledGrammar g = new CompiledGrammar(SchemaCompiler.compile(new ObjectMapper().readTree(
                    ConstrainedGenerationTest.SCHEMAS.get(schema))), trie);
            Random random = new Random(round);
            long maskNanos = 0;
            int steps = 0;
            for (int answer = 0; answer < 8; answer++) {
                GrammarMatcher m = g.newMatcher();
                while (!m.finished()) {
                    Arrays.fill(logits, 0f);
                    long start = System.nanoTime();
                    m.mask(logits);
                    maskNanos += System.nanoTime() - start;
                    int id;
                    do {
                        id = random.nextInt(logits.length);
                    } while (logits[id] != 0f);
                    if (id == 151_645) {
                        break;
                    }
                    m.accept(id);
                    steps++;
                }
            }
            System.out.printf("schema %d, round %d: %d steps, %.2f ms per step%n", schema, round + 1, steps, maskNanos / 1e6 / steps);
        }
    }
}
