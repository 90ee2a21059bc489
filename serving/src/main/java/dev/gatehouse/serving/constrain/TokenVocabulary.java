package dev.gatehouse.serving.constrain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * The bytes each token of a model stands for, read from its {@code tokenizer.json}: what the decoder writes
 * for the token in the middle of a text. Byte-level vocabularies (GPT-2, Llama 3, Qwen) spell bytes as
 * printable characters (GPT-2's bytes_to_unicode); SentencePiece ones (Llama 2, Mistral) spell a space as
 * "▁" and, with byte fallback, a raw byte as {@code <0xAB>}. Special added tokens (bos, eos, chat markers)
 * have no bytes: the detokenizer leaves them out of the text.
 */
public final class TokenVocabulary {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Per token id its bytes; null for a special token, or an id no token has. */
    private final byte[][] bytes;

    TokenVocabulary(byte[][] bytes) {
        this.bytes = bytes;
    }

    public static TokenVocabulary load(Path tokenizerJson) {
        JsonNode root;
        try {
            root = JSON.readTree(tokenizerJson.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + tokenizerJson + ": " + e.getMessage(), e);
        }
        JsonNode model = root.path("model");
        JsonNode decoder = root.path("decoder");
        boolean byteLevel = hasDecoder(decoder, "ByteLevel");
        boolean metaspace = hasDecoder(decoder, "Metaspace") || replacesMetaspace(decoder);
        boolean byteFallback = model.path("byte_fallback").asBoolean(false) || hasDecoder(decoder, "ByteFallback");

        Map<Integer, String> pieces = new HashMap<>();
        JsonNode vocab = model.path("vocab");
        if (vocab.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                pieces.put(e.getValue().asInt(), e.getKey());
            }
        } else if (vocab.isArray()) { // Unigram: [piece, score] in id order
            for (int i = 0; i < vocab.size(); i++) {
                pieces.put(i, vocab.get(i).path(0).asText());
            }
        }
        Map<Integer, String> added = new HashMap<>();
        Map<Integer, Boolean> special = new HashMap<>();
        for (JsonNode t : root.path("added_tokens")) {
            added.put(t.path("id").asInt(), t.path("content").asText());
            special.put(t.path("id").asInt(), t.path("special").asBoolean(false));
        }
        int size = 0;
        for (int id : pieces.keySet()) {
            size = Math.max(size, id + 1);
        }
        for (int id : added.keySet()) {
            size = Math.max(size, id + 1);
        }
        byte[][] bytes = new byte[size][];
        Map<Character, Integer> unicodeToByte = byteLevel ? unicodeToByte() : null;
        for (Map.Entry<Integer, String> e : pieces.entrySet()) {
            String piece = e.getValue();
            bytes[e.getKey()] = byteLevel ? byteLevelBytes(piece, unicodeToByte)
                    : byteFallback && isByteToken(piece) ? new byte[] {(byte) Integer.parseInt(piece.substring(3, 5), 16)}
                    : (metaspace ? piece.replace('\u2581', ' ') : piece).getBytes(StandardCharsets.UTF_8);
        }
        for (Map.Entry<Integer, String> e : added.entrySet()) { // an added token is written as its content
            bytes[e.getKey()] = special.get(e.getKey()) ? null : e.getValue().getBytes(StandardCharsets.UTF_8);
        }
        return new TokenVocabulary(bytes);
    }

    /** Token ids 0 .. size - 1. */
    public int size() {
        return bytes.length;
    }

    /** The bytes of a token, or null when it writes none (special, or no token has the id). */
    public byte[] bytes(int id) {
        return id >= 0 && id < bytes.length ? bytes[id] : null;
    }

    private static boolean hasDecoder(JsonNode decoder, String type) {
        if (type.equals(decoder.path("type").asText())) {
            return true;
        }
        for (JsonNode d : decoder.path("decoders")) {
            if (hasDecoder(d, type)) {
                return true;
            }
        }
        return false;
    }

    private static boolean replacesMetaspace(JsonNode decoder) {
        if ("Replace".equals(decoder.path("type").asText()) && "\u2581".equals(decoder.path("pattern").path("String").asText())) {
            return true;
        }
        for (JsonNode d : decoder.path("decoders")) {
            if (replacesMetaspace(d)) {
                return true;
            }
        }
        return false;
    }

    private static boolean isByteToken(String piece) {
        return piece.length() == 6 && piece.startsWith("<0x") && piece.endsWith(">");
    }

    private static byte[] byteLevelBytes(String piece, Map<Character, Integer> unicodeToByte) {
        byte[] out = new byte[piece.length()];
        for (int i = 0; i < piece.length(); i++) {
            Integer b = unicodeToByte.get(piece.charAt(i));
            if (b == null) {
                return null; // not a byte-level spelling: no bytes we could vouch for
            }
            out[i] = (byte) (int) b;
        }
        return out;
    }

    /** GPT-2's bytes_to_unicode, inverted: printable bytes stand for themselves, the others for 256 + n. */
    private static Map<Character, Integer> unicodeToByte() {
        Map<Character, Integer> map = new HashMap<>();
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map.put((char) (printable ? b : 256 + n++), b);
        }
        return map;
    }
}
