package dev.gatehouse.gateway.backend.bedrock;

import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.config.ProviderConfig;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;

import java.net.URI;
import java.net.http.HttpRequest;
import java.util.List;
import java.util.Map;

/**
 * SigV4 for Bedrock Runtime by the AWS SDK's own signer, over Gatehouse's HTTP client: the SDK's
 * credentials (explicit from gatehouse.yaml, or its default chain, which caches and refreshes role
 * credentials itself) sign method, URI, Content-Type, host and the body's SHA-256.
 */
final class BedrockSigner {
    /** Bedrock Runtime's signing name. */
    static final String SERVICE = "bedrock";

    private final String provider;
    private final String region;
    private final AwsCredentialsProvider credentials;
    private final AwsV4HttpSigner signer = AwsV4HttpSigner.create();

    BedrockSigner(String provider, ProviderConfig.Aws aws) {
        this.provider = provider;
        this.region = aws.region();
        this.credentials = aws.accessKeyId() == null
                ? DefaultCredentialsProvider.builder().build()
                : StaticCredentialsProvider.create(aws.sessionToken() == null
                        ? AwsBasicCredentials.create(aws.accessKeyId(), aws.secretAccessKey())
                        : AwsSessionCredentials.create(aws.accessKeyId(), aws.secretAccessKey(), aws.sessionToken()));
    }

    /** Adds Authorization, X-Amz-Date (and X-Amz-Security-Token with session credentials) to {@code http}. */
    void sign(HttpRequest.Builder http, URI uri, String contentType, byte[] body) {
        SdkHttpRequest request = SdkHttpRequest.builder().method(SdkHttpMethod.POST).uri(uri)
                .putHeader("Content-Type", contentType).build();
        AwsCredentials identity;
        try {
            identity = credentials.resolveCredentials();
        } catch (SdkException e) {
            // the chain's own account of where it looked (never a secret): Gatehouse's problem, not the client's
            throw new ApiException(502, "server_error", "upstream_auth_failed", null,
                    "Provider '" + provider + "' has no AWS credentials: " + e.getMessage(), null);
        }
        SignedRequest signed = signer.sign(r -> r.identity(identity)
                .request(request)
                .payload(ContentStreamProvider.fromByteArrayUnsafe(body))
                .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, SERVICE)
                .putProperty(AwsV4HttpSigner.REGION_NAME, region));
        for (Map.Entry<String, List<String>> h : signed.request().headers().entrySet()) {
            String name = h.getKey();
            // Host and Content-Type are sent by the HTTP client as signed; the rest are the signature's own
            if (!name.equalsIgnoreCase("Host") && !name.equalsIgnoreCase("Content-Type")) {
                h.getValue().forEach(v -> http.header(name, v));
            }
        }
    }
}
