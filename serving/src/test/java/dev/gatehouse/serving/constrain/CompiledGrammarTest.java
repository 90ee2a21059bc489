package dev.gatehouse.serving.constrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.serving.text.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Token masks over Qwen3's whole vocabulary: tokens spanning several JSON characters, and the end of a document. */
class CompiledGrammarTest {
    @TempDir
    static Path dir;
    static Tokenizer tokenizer;
    static TokenTrie trie;
    static int imEnd;

    @BeforeAll
    static void load() {
        Path tokenizerJson = RealTokenizers.write(RealTokenizers.QWEN3, dir);
        tokenizer = Tokenizer.load(dir);
        imEnd = tokenizer.encode("<|im_end|>", false)[0];
        trie = new TokenTrie(TokenVocabulary.load(tokenizerJson), Set.of(imEnd));
    }

    private static int token(String text) {
        int[] ids = tokenizer.encode(text, false);
        assertEquals(1, ids.length, "'" + text + "' is one token");
        return ids[0];
    }

    private static GrammarMatcher after(CompiledGrammar g, String... tokens) {
        GrammarMatcher m = g.newMatcher();
        for (String t : tokens) {
            m.accept(token(t));
        }
        return m;
    }

    @Test
    void tokensMayCloseAStringAndOpenTheNextKey() throws Exception {
        CompiledGrammar g = new CompiledGrammar(SchemaCompiler.compile(new ObjectMapper().readTree("""
                {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "integer"}},
                 "required": ["a", "b"], "additionalProperties": false}""")), trie);
        GrammarMatcher m = g.newMatcher();
        assertTrue(m.allows(token("{\"")));
        assertFalse(m.allows(token("[")));
        assertFalse(m.allows(imEnd), "no end before the document is complete");
        m = after(g, "{\"", "a", "\":", " \"");
        assertTrue(m.allows(token("hello")));
        assertTrue(m.allows(token("\",")), "closes the string and goes on to the next key");
        assertFalse(m.allows(token("\"}")), "b is required");
        assertFalse(m.allows(token("\n")), "a raw newline inside a string");
        m = after(g, "{\"", "a", "\":", " \"", "hello", "\",", " \"", "b", "\":", " ");
        assertTrue(m.allows(token("4")));
        assertFalse(m.allows(token("\"")));
        m.accept(token("4"));
        assertTrue(m.allows(token("2")));
        assertTrue(m.allows(token("}")));
        m.accept(token("}"));
        assertTrue(m.finished());
        assertTrue(m.allows(imEnd));
        assertFalse(m.allows(token(" ")), "nothing after the document");
    }

    @Test
    void aFreeStringStateIsComputedOnceAndThenServedFromTheCache() {
        CompiledGrammar g = new CompiledGrammar(Grammar.ANY_OBJECT, trie);
        ParseState inString = advance(ParseState.start(Grammar.ANY_OBJECT), "{\"text\": \"");
        long start = System.nanoTime();
        TokenMask first = g.mask(inString);
        long firstNanos = System.nanoTime() - start;
        float[] logits = new float[trie.vocabSize()];
        first.apply(logits);
        int allowed = 0;
        for (float l : logits) {
            allowed += l == 0f ? 1 : 0;
        }
        assertTrue(allowed > 100_000, "most tokens may go inside a string: " + allowed);

        ParseState later = advance(inString, "hello world");
        assertEquals(inString, later, "plain characters inside a string leave the state as it is");
        start = System.nanoTime();
        assertSame(first, g.mask(later), "the same state again comes from the cache, not a new walk");
        System.out.printf("free-string mask: first %.1f ms, cached %.3f ms, %d of %d tokens%n", firstNanos / 1e6,
                (System.nanoTime() - start) / 1e6, allowed, trie.vocabSize());
    }

    private static ParseState advance(ParseState state, String text) {
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            state = state.advance(b & 0xff);
            assertNotNull(state, "'" + text + "' is accepted");
        }
        return state;
    }
}
