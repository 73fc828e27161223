# Common mistakes, each with the fix zpr suggests.
in networks:prod VCN allow app:web endpoints to connect to app:db endpoints with protocol='tcp/ssh'
in networks:prod VCN alow app:web endpoints to conect to app:db endpoints
in networks:prod VCN allow app:web endpoints to connect to '10.0.0.5/16' with port='22'
in networks:prod VCN allow app:web endpoints to connect to app:db endpoints with protocol='tcp/1522-1521'
in networks:prod VCN deny app:web endpoints to connect to app:db endpoints
in networks:prod VCN allow app:web endpoints to connect to app:db endpoints with protocol='tcp/5432'
in networks:prod VCN allow app:web endpoints to connect to app:db endpoints with protocol='tcp/5432'
