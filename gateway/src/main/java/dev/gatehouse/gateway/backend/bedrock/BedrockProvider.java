package dev.gatehouse.gateway.backend.bedrock;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.backend.Capabilities;
import dev.gatehouse.gateway.backend.ProviderApi;
import dev.gatehouse.gateway.backend.StreamPayloads;
import dev.gatehouse.gateway.backend.StreamTranslator;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.config.ProviderConfig;

import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * AWS Bedrock Runtime's Converse API: POST {base-url}/model/{model id}/converse, or /converse-stream
 * for an AWS event-stream framed answer ({@link BedrockEventStream}), signed with SigV4
 * for the provider's region (base-url defaults to https://bedrock-runtime.{region}.amazonaws.com).
 * One translation serves every model family Bedrock hosts; response formats are not offered.
 */
public final class BedrockProvider implements ProviderApi {
    private static final Capabilities CAPABILITIES = new Capabilities(true, true, false, false, null);
    private final ProviderConfig provider;
    private final BedrockSigner signer;

    public BedrockProvider(ProviderConfig provider) {
        this.provider = provider;
        this.signer = new BedrockSigner(provider.name(), provider.aws());
    }

    @Override
    public Capabilities capabilities() {
        return CAPABILITIES;
    }

    @Override
    public URI uri(ChatRequest request) {
        // model ids hold ':' and inference profile ARNs '/': both travel percent-encoded
        return URI.create(provider.baseUrl() + "/model/" + URLEncoder.encode(request.model(), StandardCharsets.UTF_8)
                + (request.stream() ? "/converse-stream" : "/converse"));
    }

    @Override
    public void authenticate(HttpRequest.Builder http, URI uri, byte[] body) {
        signer.sign(http, uri, "application/json", body);
    }

    @Override
    public JsonNode body(ChatRequest request) {
        return BedrockRequestTranslator.body(request);
    }

    @Override
    public ApiException error(int status, byte[] body, Long retryAfterMillis) {
        return BedrockErrors.fromResponse(provider.name(), status, body, retryAfterMillis);
    }

    @Override
    public List<ChatEvent> answer(ChatRequest request, JsonNode body) {
        return BedrockAnswer.events(body);
    }

    @Override
    public StreamTranslator stream(ChatRequest request) {
        return new BedrockStreamTranslator(provider.name());
    }

    @Override
    public String streamMediaType() {
        return "application/vnd.amazon.eventstream";
    }

    @Override
    public StreamPayloads payloads(InputStream body, long stallMillis) {
        return new BedrockEventStream(provider.name(), body, stallMillis);
    }
}
