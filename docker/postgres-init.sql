-- One server, two databases: Airflow's metadata and the ka-pipeline warehouse.
create database airflow;
create database ka_warehouse;
