package dev.gatehouse.gateway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.serving.text.ChatMessage;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/** Answers from a running OpenAI-compatible server (Gatehouse or any other), streamed over SSE. */
final class RemoteChatReplies implements ChatReplies {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final URI endpoint;
    private final String model;
    private final String apiKey;
    private final int maxTokens;
    private final double temperature;

    /** @param url the server, with or without its {@code /v1} */
    RemoteChatReplies(String url, String model, String apiKey, int maxTokens, double temperature) {
        String base = url.replaceAll("/+$", "").replaceAll("/v1$", "");
        this.endpoint = URI.create(base + "/v1/chat/completions");
        this.model = model;
        this.apiKey = apiKey;
        this.maxTokens = maxTokens;
        this.temperature = temperature;
    }

    @Override
    public String reply(List<ChatMessage> history, Consumer<String> text, BooleanSupplier stopped) {
        ObjectNode body = JSON.createObjectNode().put("model", model).put("stream", true).put("max_tokens", maxTokens)
                .put("temperature", temperature);
        history.forEach(m -> body.withArray("messages").addObject().put("role", m.role()).put("content", m.content()));
        HttpRequest.Builder request = HttpRequest.newBuilder(endpoint).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString()));
        if (apiKey != null && !apiKey.isBlank()) {
            request.header("Authorization", "Bearer " + apiKey);
        }
        try {
            HttpResponse<InputStream> response = http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
                if (response.statusCode() != 200) {
                    throw new IllegalStateException(errorMessage(response.statusCode(), lines));
                }
                StringBuilder answer = new StringBuilder();
                for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                    if (stopped.getAsBoolean()) {
                        throw new Stopped(); // closing the stream hangs up: the server stops generating
                    }
                    if (!line.startsWith("data:") || line.substring(5).isBlank() || line.substring(5).trim().equals("[DONE]")) {
                        continue;
                    }
                    JsonNode event = JSON.readTree(line.substring(5));
                    if (event.has("error")) {
                        throw new IllegalStateException(event.path("error").path("message").asText("the server failed"));
                    }
                    String delta = event.path("choices").path(0).path("delta").path("content").asText("");
                    answer.append(delta);
                    text.accept(delta);
                }
                return answer.toString();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot reach " + endpoint + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Stopped();
        }
    }

    private static String errorMessage(int status, BufferedReader body) throws IOException {
        char[] buf = new char[8192]; // an error body is short; never read more than this of it
        int n = body.read(buf);
        String text = n > 0 ? new String(buf, 0, n) : "";
        try {
            return "HTTP " + status + ": " + JSON.readTree(text).path("error").path("message").asText(text);
        } catch (IOException e) {
            return "HTTP " + status + ": " + text;
        }
    }

    @Override
    public void close() {
        http.close();
    }
}
