# Every example statement published for ZPR (ZPL.md section 2 and the product FAQ).

# Within one VCN
in SA_BACKEND_VCN VCN allow SA_WEB_FRONTEND endpoints to connect to SA_APP_BACKEND endpoints
In SA_BACKEND_VCN VCN allow SA_APP_BACKEND endpoints to connect to SA_DB_TIER endpoints
in networks:net1 VCN allow apps:app1 endpoints to connect to '192.168.0.0/16'
in applications.apps:app1 VCN allow '10.0.0.0/16' to connect to apps:app1 endpoints

# Across VCNs
allow compute:instance1 endpoints in networks:net1 VCN to connect to compute:instance2 endpoints with protocol='tcp/22' in networks:net2 VCN
Allow SA_WEB_FRONTEND endpoints in SA_FRONTEND_VCN VCN to connect to SA_APP_BACKEND endpoints in SA_BACKEND_VCN VCN
Allow SA_APP_BACKEND endpoints in SA_BACKEND_VCN VCN to connect to SA_DB_TIER endpoints in SA_DATABASE_VCN VCN

# Tagged to untagged, during onboarding
In SA_BACKEND_VCN VCN allow SA_APP_BACKEND endpoints to connect to 10.10.0.15
In SA_FRONTEND_VCN VCN allow SA_WEB_FRONTEND endpoints to connect to 10.10.1.25
