# A three-tier application in the prod VCN.
in networks:prod VCN allow app:web endpoints to connect to app:db endpoints with protocol='tcp/5432'
in networks:prod VCN allow app:lb endpoints to connect to app:web endpoints with protocol='tcp/443,8080-8081'
in networks:prod VCN allow app:web endpoints to connect to 'osn-services-ip-addresses' with protocol='tcp/443'
in networks:prod VCN allow '0.0.0.0/0' to connect to app:lb endpoints with protocol='tcp/443'
in networks:prod VCN allow app:ops endpoints to connect to all-endpoints with protocol='icmp', protocol.icmp.type='8'
in networks:prod VCN allow app:web endpoints to connect to 'oracle-zpr.sensitivity:high secrets' endpoints with protocol='udp/514', connection-state='stateless'
