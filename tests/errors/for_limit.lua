for i = 1, "ten" do end
