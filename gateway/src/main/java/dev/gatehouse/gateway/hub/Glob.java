package dev.gatehouse.gateway.hub;

import java.util.regex.Pattern;

/**
 * A file pattern like the Hub's tools take ({@code *.safetensors}, {@code onnx/*}): {@code *} matches any
 * run of characters, slashes included (fnmatch, not shell globbing), {@code ?} one character.
 */
public final class Glob {
    private final String text;
    private final Pattern regex;

    public Glob(String text) {
        this.text = text;
        StringBuilder re = new StringBuilder();
        for (char c : text.toCharArray()) {
            switch (c) {
                case '*' -> re.append(".*");
                case '?' -> re.append('.');
                default -> re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        this.regex = Pattern.compile(re.toString());
    }

    public boolean matches(String path) {
        return regex.matcher(path).matches();
    }

    @Override
    public String toString() {
        return text;
    }
}
