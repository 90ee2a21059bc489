package dev.gatehouse.gateway.chat;

/** One part of a message's content: text, or an image by URL or data URI. */
public sealed interface ContentPart {

    record Text(String text) implements ContentPart {}

    /**
     * An image: {@code url} is an http(s) URL or a {@code data:<media type>;base64,<data>} URI;
     * {@code detail} is "auto", "low" or "high" (OpenAI's), null when the client left it out.
     */
    record Image(String url, String detail) implements ContentPart {
        public boolean isDataUri() {
            return url.startsWith("data:");
        }

        /** The media type of a data URI (image/png, ...); null for a URL. */
        public String mediaType() {
            return isDataUri() ? url.substring(5, url.indexOf(';')) : null;
        }

        /** The base64 payload of a data URI; null for a URL. */
        public String base64Data() {
            return isDataUri() ? url.substring(url.indexOf(',') + 1) : null;
        }
    }
}
