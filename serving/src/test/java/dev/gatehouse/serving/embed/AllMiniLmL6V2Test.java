package dev.gatehouse.serving.embed;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The real all-MiniLM-L6-v2 from the langchain4j jar, through ONNX Runtime. */
class AllMiniLmL6V2Test {
    @TempDir
    static Path cache;
    static EmbeddingModel model;

    @BeforeAll
    static void load() {
        model = AllMiniLmL6V2.load(cache);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void gives384DimensionalUnitVectors() {
        float[][] v = model.embed(List.of(model.tokenize("This is an example sentence"), model.tokenize("Each sentence is converted")));
        for (float[] e : v) {
            assertEquals(384, e.length);
            assertEquals(1.0, BertTest.norm(e), 1e-5);
        }
    }

    @Test
    void paraphrasesRankAboveUnrelatedSentences() {
        String[][] paraphrases = {
            {"A man is eating food.", "A man is eating a piece of bread."},
            {"A man is riding a horse.", "A man is riding a white horse on an enclosed ground."},
            {"The new movie is awesome", "The new movie is so great"},
        };
        String[] unrelated = {"A monkey is playing drums.", "Two men pushed carts through the woods.", "The cat sits outside"};
        for (String[] pair : paraphrases) {
            double similar = cosine(pair[0], pair[1]);
            for (String other : unrelated) {
                double different = cosine(pair[0], other);
                assertTrue(similar > different, "'" + pair[0] + "' is closer to '" + other + "' (" + different
                    + ") than to '" + pair[1] + "' (" + similar + ")");
            }
        }
    }

    @Test
    void truncatesAt256TokensNot128KeepingSep() {
        int[] ids = model.tokenize("word ".repeat(400));
        assertEquals(256, ids.length, "max_seq_length 256, not tokenizer.json's 128");
        int[] empty = model.tokenize("");
        assertEquals(empty[0], ids[0]);
        assertEquals(empty[1], ids[255], "[SEP] stays last");
    }

    @Test
    void batchedEqualsSingle() {
        List<int[]> inputs = List.of(model.tokenize("short"), model.tokenize("a somewhat longer sentence with more tokens in it"));
        float[][] batched = model.embed(inputs);
        for (int i = 0; i < inputs.size(); i++) {
            assertArrayEquals(model.embed(List.of(inputs.get(i)))[0], batched[i], 1e-5f);
        }
    }

    private static double cosine(String a, String b) {
        float[][] v = model.embed(List.of(model.tokenize(a), model.tokenize(b)));
        double dot = 0;
        for (int i = 0; i < v[0].length; i++) dot += v[0][i] * v[1][i];
        return dot; // unit vectors
    }
}
