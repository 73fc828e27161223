# Extra access for operations, written for examples/tenancies/three-tier.yaml.
in network.vcn:prod VCN allow app.tier:app endpoints to connect to app.tier:web endpoints with protocol='tcp/9100'
in network.vcn:prod VCN allow app.tier:web endpoints to connect to 'osn-services-ip-addresses' with protocol='tcp/443'
