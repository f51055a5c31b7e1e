package io.gregor.wire.security;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.apache.kafka.common.security.auth.SslAuthenticationContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;

/**
 * Sits right behind the {@link SslHandler}: on an SSL listener the finished handshake names the client
 * (its certificate's DN through {@code ssl.principal.mapping.rules}, ANONYMOUS without one); a failed
 * handshake (random bytes, a plaintext Kafka client, an untrusted certificate) gets one log line and
 * a close, and the exception Netty raises for the same failure is not logged again.
 */
public final class TlsHandshakeHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(TlsHandshakeHandler.class);
    private final ListenerSecurity security;
    private boolean failed;

    public TlsHandshakeHandler(ListenerSecurity security) {
        this.security = security;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof SslHandshakeCompletionEvent done) {
            if (!done.isSuccess()) {
                failed = true;
                log.info("Failed authentication with {} on listener {} (SSL handshake failed: {})",
                        ctx.channel().remoteAddress(), security.listenerName(), describe(done.cause()));
                ctx.close();
                return;
            }
            if (security.protocol() == SecurityProtocol.SSL) {
                SslHandler ssl = ctx.pipeline().get(SslHandler.class);
                InetSocketAddress peer = ctx.channel().remoteAddress() instanceof InetSocketAddress a ? a : null;
                try {
                    ctx.fireUserEventTriggered(new Authenticated(security.principal(new SslAuthenticationContext(
                            ssl.engine().getSession(), peer == null ? null : peer.getAddress(), security.listenerName()))));
                } catch (RuntimeException e) {
                    failed = true;
                    log.info("Failed authentication with {} on listener {} (no principal for the certificate: {})",
                            ctx.channel().remoteAddress(), security.listenerName(), e.getMessage());
                    ctx.close();
                }
            }
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (failed) {
            return; // the handshake failure already said why
        }
        ctx.fireExceptionCaught(cause);
    }

    private static String describe(Throwable cause) {
        Throwable root = cause;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage();
        return root.getClass().getSimpleName() + (message == null ? "" : ": "
                + (message.length() > 200 ? message.substring(0, 200) + "..." : message));
    }
}
