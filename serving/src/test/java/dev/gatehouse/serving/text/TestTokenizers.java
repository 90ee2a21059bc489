package dev.gatehouse.serving.text;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Model folders holding a tokenizer.json, for tests. */
final class TestTokenizers {

    private static final ObjectMapper JSON = new ObjectMapper();

    private TestTokenizers() {}

    /**
     * The real all-MiniLM-L6-v2 tokenizer (BERT WordPiece, lower-casing) from the langchain4j test
     * jar. Its tokenizer.json asks for truncation at 128 and padding to 128.
     */
    static Path miniLm(Path dir) throws IOException {
        try (InputStream in = TestTokenizers.class.getResourceAsStream("/all-minilm-l6-v2-tokenizer.json")) {
            if (in == null) {
                throw new IllegalStateException("all-minilm-l6-v2-tokenizer.json not on the test classpath");
            }
            Files.copy(in, dir.resolve("tokenizer.json"));
        }
        return dir;
    }

    /**
     * A GPT-2 style byte-level BPE: every byte is a token and a few merges make words, but there is
     * no merge for the bytes of multi-byte characters, so "é" (C3 A9) takes two tokens and an
     * emoji four. "&lt;|endoftext|&gt;" is a special token.
     */
    static Path byteLevelBpe(Path dir) throws IOException {
        Map<Integer, Character> byteChars = gpt2ByteChars();
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (int b = 0; b < 256; b++) {
            vocab.put(String.valueOf(byteChars.get(b)), vocab.size());
        }
        List<String> merges = new ArrayList<>();
        for (String word : List.of("hello", "Ġhello", "Ġworld", "Ġw", "rld", "Ġcaf")) {
            addMergeChain(word, vocab, merges);
        }
        int eos = vocab.size();
        vocab.put("<|endoftext|>", eos);

        Map<String, Object> byteLevel = Map.of("type", "ByteLevel", "add_prefix_space", false,
                "trim_offsets", true, "use_regex", true);
        Map<String, Object> tokenizer = new LinkedHashMap<>();
        tokenizer.put("version", "1.0");
        tokenizer.put("truncation", null);
        tokenizer.put("padding", null);
        tokenizer.put("added_tokens", List.of(specialToken(eos, "<|endoftext|>")));
        tokenizer.put("normalizer", null);
        tokenizer.put("pre_tokenizer", byteLevel);
        tokenizer.put("post_processor", byteLevel);
        tokenizer.put("decoder", byteLevel);
        tokenizer.put("model", bpe(vocab, merges));
        return write(dir, tokenizer);
    }

    /**
     * A Llama-2 style SentencePiece tokenizer: spaces become "▁" glued to the next word, the
     * decoder turns them back and strips the one at the start of the text, characters outside the
     * vocabulary fall back to byte tokens &lt;0xC3&gt;&lt;0xA9&gt;, and &lt;s&gt; is added in front.
     */
    static Path sentencePiece(Path dir) throws IOException {
        List<List<Object>> vocab = new ArrayList<>();
        for (String special : List.of("<unk>", "<s>", "</s>")) {
            vocab.add(List.of(special, 0.0));
        }
        for (int b = 0; b < 256; b++) {
            vocab.add(List.of(String.format("<0x%02X>", b), 0.0));
        }
        for (String word : List.of("▁Hello", "▁world", "▁w", "rld", "▁caf", "▁the", "▁end")) {
            vocab.add(List.of(word, -1.0));
        }
        vocab.add(List.of("▁", -5.0));
        for (char c = '!'; c <= '~'; c++) {
            vocab.add(List.of(String.valueOf(c), -10.0));
        }

        Map<String, Object> tokenizer = new LinkedHashMap<>();
        tokenizer.put("version", "1.0");
        tokenizer.put("truncation", null);
        tokenizer.put("padding", null);
        tokenizer.put("added_tokens", List.of(specialToken(0, "<unk>"), specialToken(1, "<s>"), specialToken(2, "</s>")));
        tokenizer.put("normalizer", Map.of("type", "Sequence", "normalizers", List.of(
                Map.of("type", "Prepend", "prepend", "▁"),
                Map.of("type", "Replace", "pattern", Map.of("String", " "), "content", "▁"))));
        tokenizer.put("pre_tokenizer", null);
        tokenizer.put("post_processor", Map.of(
                "type", "TemplateProcessing",
                "single", List.of(Map.of("SpecialToken", Map.of("id", "<s>", "type_id", 0)),
                        Map.of("Sequence", Map.of("id", "A", "type_id", 0))),
                "pair", List.of(Map.of("SpecialToken", Map.of("id", "<s>", "type_id", 0)),
                        Map.of("Sequence", Map.of("id", "A", "type_id", 0)),
                        Map.of("Sequence", Map.of("id", "B", "type_id", 1))),
                "special_tokens", Map.of("<s>", Map.of("id", "<s>", "ids", List.of(1), "tokens", List.of("<s>")))));
        tokenizer.put("decoder", Map.of("type", "Sequence", "decoders", List.of(
                Map.of("type", "Replace", "pattern", Map.of("String", "▁"), "content", " "),
                Map.of("type", "ByteFallback"),
                Map.of("type", "Fuse"),
                Map.of("type", "Strip", "content", " ", "start", 1, "stop", 0))));
        tokenizer.put("model", Map.of("type", "Unigram", "unk_id", 0, "vocab", vocab, "byte_fallback", true));
        return write(dir, tokenizer);
    }

    private static Path write(Path dir, Map<String, Object> tokenizer) throws IOException {
        JSON.writeValue(dir.resolve("tokenizer.json").toFile(), tokenizer);
        return dir;
    }

    private static Map<String, Object> specialToken(int id, String content) {
        return Map.of("id", id, "content", content, "single_word", false, "lstrip", false,
                "rstrip", false, "normalized", false, "special", true);
    }

    private static Map<String, Object> bpe(Map<String, Integer> vocab, List<String> merges) {
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "BPE");
        model.put("dropout", null);
        model.put("unk_token", null);
        model.put("continuing_subword_prefix", null);
        model.put("end_of_word_suffix", null);
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("vocab", vocab);
        model.put("merges", merges);
        return model;
    }

    /** Merges that build a word left to right: "h e", "he l", "hel l", ... */
    private static void addMergeChain(String word, Map<String, Integer> vocab, List<String> merges) {
        String left = word.substring(0, 1);
        for (int i = 1; i < word.length(); i++) {
            String right = word.substring(i, i + 1);
            String merged = left + right;
            if (!vocab.containsKey(merged)) {
                merges.add(left + " " + right);
                vocab.put(merged, vocab.size());
            }
            left = merged;
        }
    }

    /** GPT-2's bytes_to_unicode: printable bytes stand for themselves, the rest map to 256 and up. */
    private static Map<Integer, Character> gpt2ByteChars() {
        Map<Integer, Character> map = new LinkedHashMap<>();
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map.put(b, (char) (printable ? b : next++));
        }
        return map;
    }
}
