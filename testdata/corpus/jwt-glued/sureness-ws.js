new WebSocket("ws://localhost:8088/webSocket/demo?token=jwtValue-{{leakscan:bound-jwt}}");
